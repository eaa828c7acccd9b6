// RootDataset: several ROOT files (e.g. every .root file of a folder) holding the same tree,
// read as one dataset. Files are opened one at a time while iterating, so a dataset larger than
// memory streams chunk by chunk; chunks never span two files.
//
//   using var ds = RootDataset.FromFolder("data/", "tree");
//   foreach (var chunk in ds.IterateChunks(["part_px", "label_Top"], 50_000)) ...
using Hep.RootIO.Trees;

namespace Hep.RootIO.Dataset;

public sealed class RootDataset
{
    private readonly long[] _entries;

    public RootDataset(IEnumerable<string> files, string treeName)
    {
        Files = files.Select(Path.GetFullPath).ToList();
        TreeName = treeName;
        if (Files.Count == 0) throw new ArgumentException("a dataset needs at least one file");
        _entries = new long[Files.Count];
        for (int i = 0; i < Files.Count; i++)
        {
            using var f = RootFile.Open(Files[i]);
            _entries[i] = f.GetTree(treeName).Entries;
        }
    }

    /// <summary>All files matching pattern in folder (sorted by name), each holding treeName.</summary>
    public static RootDataset FromFolder(string folder, string treeName, string pattern = "*.root")
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"dataset folder not found: {folder}");
        var files = Directory.GetFiles(folder, pattern).OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new FileNotFoundException($"no {pattern} files in {folder}");
        return new RootDataset(files, treeName);
    }

    public IReadOnlyList<string> Files { get; }
    public string TreeName { get; }
    public long Entries => _entries.Sum();
    public IReadOnlyList<long> EntriesPerFile => _entries;

    /// <summary>Chunks of at most chunkEntries entries, file after file; EntryStart counts across the dataset.</summary>
    public IEnumerable<TreeChunk> IterateChunks(IReadOnlyList<string> branches, int chunkEntries = 100_000)
    {
        long offset = 0;
        for (int i = 0; i < Files.Count; i++)
        {
            using (var file = RootFile.Open(Files[i]))
            {
                var tree = file.GetTree(TreeName);
                foreach (var chunk in tree.IterateChunks(branches, chunkEntries))
                    yield return chunk with { EntryStart = offset + chunk.EntryStart, FilePath = Files[i] };
            }
            offset += _entries[i];
        }
    }

    /// <summary>One branch over the whole dataset, concatenated.</summary>
    public ColumnData ReadColumn(string branch)
    {
        var parts = new List<ColumnData>();
        foreach (var file in Files)
        {
            using var f = RootFile.Open(file);
            parts.Add(f.GetTree(TreeName).ReadColumn(branch));
        }
        return ColumnConcat.Concat(parts);
    }
}
