// TestData: locates the shared test data (../shared/data relative to the repository root, found by
// walking up to Engine.sln) and fails loudly if it is missing. Data files are never copied into
// the repository.
namespace Hep.RootIO.Tests.Support;

internal static class TestData
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>../shared/data next to the repository.</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    public static string RootFiles => Path.Combine(SharedData, "scikit-hep-testdata-root");

    public static string RootFile(string name)
    {
        string p = Path.Combine(RootFiles, name);
        if (!File.Exists(p)) Assert.Fail($"test data file missing: {p}");
        return p;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException($"Engine.sln not found above {AppContext.BaseDirectory}");
        return dir.FullName;
    }
}
