// RootTreeWriter: writes one TTree with scalar and std::vector branches to a new ROOT file.
//
//   using var w = new RootTreeWriter("out.root", "tree",
//       [BranchSpec.Scalar("jet_pt", RootValueType.Float32), BranchSpec.Vector("part_px", RootValueType.Float32)]);
//   w.Append(n, new Dictionary<string, WriteColumn> { ["jet_pt"] = WriteColumn.Scalars(pt),
//                                                     ["part_px"] = WriteColumn.Jagged(px, offsets) });
//   w.Complete();   // without it, Dispose leaves no file behind
//
// Entries are appended in chunks; each branch writes a zlib basket whenever its buffer reaches
// basketSize bytes. The file is written under a temporary name and renamed by Complete.
using Hep.RootIO.Internal;
using Hep.RootIO.Streamers;

namespace Hep.RootIO.Writing;

public sealed class RootTreeWriter : IDisposable
{
    public const int DefaultBasketSize = 512 * 1024;

    private readonly RootFileBuilder _file;
    private readonly List<BranchWriter> _branches;
    private readonly Dictionary<string, BranchWriter> _byName;
    private bool _done;

    public RootTreeWriter(string path, string treeName, IEnumerable<BranchSpec> branches, int compressionLevel = 1,
        int basketSize = DefaultBasketSize, string treeTitle = "")
    {
        if (string.IsNullOrEmpty(treeName)) throw new ArgumentException("tree name is empty", nameof(treeName));
        if (compressionLevel is < 0 or > 9) throw new ArgumentOutOfRangeException(nameof(compressionLevel), "zlib level 0-9");
        if (basketSize < 1024) throw new ArgumentOutOfRangeException(nameof(basketSize), "at least 1024 bytes");
        TreeName = treeName;
        TreeTitle = treeTitle;
        _branches = new List<BranchWriter>();
        _byName = new Dictionary<string, BranchWriter>(StringComparer.Ordinal);
        foreach (var spec in branches)
        {
            spec.Validate();
            var bw = new BranchWriter(spec, treeName, basketSize);
            if (!_byName.TryAdd(spec.Name, bw)) throw new ArgumentException($"duplicate branch '{spec.Name}'");
            _branches.Add(bw);
        }
        if (_branches.Count == 0) throw new ArgumentException("a tree needs at least one branch");
        _file = new RootFileBuilder(path, compressionLevel);
    }

    public string TreeName { get; }
    public string TreeTitle { get; }
    public long Entries { get; private set; }

    /// <summary>Path of the temporary file being written (renamed to the target by Complete).</summary>
    public string TemporaryPath => _file.TempPath;

    /// <summary>Appends entryCount entries; every branch must be present.</summary>
    public void Append(int entryCount, IReadOnlyDictionary<string, WriteColumn> columns)
    {
        if (_done) throw new InvalidOperationException("writer already completed or disposed");
        if (entryCount < 0) throw new ArgumentOutOfRangeException(nameof(entryCount));
        foreach (var name in columns.Keys)
            if (!_byName.ContainsKey(name)) throw new ArgumentException($"no branch '{name}' in tree '{TreeName}'");
        foreach (var bw in _branches)
        {
            if (!columns.TryGetValue(bw.Spec.Name, out var col))
                throw new ArgumentException($"chunk lacks branch '{bw.Spec.Name}'");
            bw.Append(col, entryCount, _file);
        }
        Entries += entryCount;
    }

    /// <summary>Flushes baskets, writes the TTree, streamer infos and directory, and moves the file into place.</summary>
    public void Complete()
    {
        if (_done) throw new InvalidOperationException("writer already completed or disposed");
        foreach (var bw in _branches) bw.Flush(_file);
        _file.WriteObjectKey("TTree", TreeName, TreeTitle, keyLen =>
        {
            var w = new RootWriteBuffer(keyLen, 4096);
            TreeObjectWriter.Write(w, TreeName, TreeTitle, Entries, _branches);
            return w.ToArray();
        }, listInDirectory: true);
        _file.Complete(KnownStreamers.All);
        _done = true;
    }

    public void Dispose()
    {
        _done = true;
        _file.Dispose();
    }
}
