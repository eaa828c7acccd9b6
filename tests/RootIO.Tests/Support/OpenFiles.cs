// OpenFiles: caches opened test files and read columns so that the many per-branch test cases
// do not re-read the same baskets.
using System.Collections.Concurrent;
using Hep.RootIO.Trees;

namespace Hep.RootIO.Tests.Support;

internal static class OpenFiles
{
    private static readonly ConcurrentDictionary<string, RootFile> s_files = new();
    private static readonly ConcurrentDictionary<(string, string, string), ColumnData> s_columns = new();

    public static RootFile Get(string name) => s_files.GetOrAdd(name, n => RootFile.Open(TestData.RootFile(n)));

    public static RootTree Tree(string file, string tree) => Get(file).GetTree(tree);

    public static ColumnData Column(string file, string tree, string branch) =>
        s_columns.GetOrAdd((file, tree, branch), k => Tree(k.Item1, k.Item2).ReadColumn(k.Item3));
}
