// RootTree: a TTree opened from a file. Lists its branches and reads them as columns.
//
//   var tree = file.GetTree("events");
//   ColumnData pt = tree.ReadColumn("Jet_pt", 0, 1000);          // entries [0, 1000)
//   foreach (var chunk in tree.IterateChunks(["part_px"], 50_000)) ...  // streaming
//
// Reads decompress only the baskets overlapping the requested range. Chunked iteration keeps
// the last basket of each branch so a basket straddling two chunks is decompressed once.
using Hep.RootIO.Format;
using Hep.RootIO.Internal;

namespace Hep.RootIO.Trees;

public sealed class RootTree
{
    private readonly RootFile _file;
    private readonly Dictionary<string, RootBranch> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<BranchRecord, List<BasketRef>> _baskets = new();

    internal RootTree(RootFile file, TreeRecord record)
    {
        _file = file;
        Name = record.Name;
        Title = record.Title;
        Entries = record.Entries;
        var all = new List<RootBranch>();
        foreach (var br in record.Branches)
            foreach (var b in BranchResolver.Resolve(br))
            {
                all.Add(b);
                _byName.TryAdd(b.Name, b);
            }
        Branches = all;
    }

    public string Name { get; }
    public string Title { get; }
    public long Entries { get; }

    /// <summary>Path of the file the tree was read from.</summary>
    public string FilePath => _file.Path;

    /// <summary>Every branch, sub-branch and leaf-list member, readable or not.</summary>
    public IReadOnlyList<RootBranch> Branches { get; }

    public bool HasBranch(string name) => _byName.ContainsKey(name);

    public RootBranch GetBranch(string name)
    {
        if (_byName.TryGetValue(name, out var b)) return b;
        string known = string.Join(", ", Branches.Take(30).Select(x => x.Name)) + (Branches.Count > 30 ? ", ..." : "");
        throw RootFormatException.Create(_file.Path, name, $"no branch '{name}' in tree '{Name}' (branches: {known})");
    }

    /// <summary>Reads one branch over entries [start, stop) (stop defaults to all entries).</summary>
    public ColumnData ReadColumn(string branch, long start = 0, long? stop = null) =>
        ReadColumn(branch, start, stop ?? Entries, null);

    /// <summary>Reads several branches over the same entry range.</summary>
    public IReadOnlyDictionary<string, ColumnData> ReadColumns(IEnumerable<string> branches, long start = 0, long? stop = null)
    {
        var result = new Dictionary<string, ColumnData>(StringComparer.Ordinal);
        foreach (var name in branches) result[name] = ReadColumn(name, start, stop ?? Entries, null);
        return result;
    }

    /// <summary>Streams the branches in chunks of at most chunkEntries entries.</summary>
    public IEnumerable<TreeChunk> IterateChunks(IReadOnlyList<string> branches, int chunkEntries = 100_000, long start = 0, long? stop = null)
    {
        if (chunkEntries <= 0) throw new ArgumentOutOfRangeException(nameof(chunkEntries));
        long end = Math.Min(stop ?? Entries, Entries);
        foreach (var name in branches) GetBranch(name);
        var cache = new Dictionary<string, BasketPayload>(StringComparer.Ordinal);
        for (long s = start; s < end; s += chunkEntries)
        {
            long e = Math.Min(end, s + chunkEntries);
            var cols = new Dictionary<string, ColumnData>(StringComparer.Ordinal);
            foreach (var name in branches) cols[name] = ReadColumn(name, s, e, cache);
            yield return new TreeChunk(s, (int)(e - s), cols);
        }
    }

    /// <summary>Decompressed baskets overlapping [start, stop); pooled buffers, to be Release()d by the caller.</summary>
    internal IReadOnlyList<BasketPayload> LoadBaskets(RootBranch branch, long start, long stop, Dictionary<string, BasketPayload>? cache)
    {
        var ctx = _file.Context.WithBranch(branch.Name);
        var refs = BasketRefs(branch.Record, ctx);
        var result = new List<BasketPayload>();
        foreach (var r in refs)
        {
            if (!r.Overlaps(start, stop)) continue;
            if (cache is not null && cache.TryGetValue(branch.Record.Name, out var hit) && hit.FirstEntry == r.FirstEntry)
            {
                result.Add(hit);
                continue;
            }
            try
            {
                result.Add(BasketLoader.Load(_file.Source, r, ctx));
            }
            catch
            {
                Release(result, cache);
                throw;
            }
        }
        return result;
    }

    private ColumnData ReadColumn(string name, long start, long stop, Dictionary<string, BasketPayload>? cache)
    {
        var branch = GetBranch(name);
        var ctx = _file.Context.WithBranch(name);
        if (!branch.IsReadable)
            throw ctx.Error($"cannot read branch of type {branch.TypeName}: {branch.UnsupportedReason}");
        if (start < 0 || stop > Entries || start > stop)
            throw ctx.Error($"entry range [{start}, {stop}) outside tree of {Entries} entries");
        return Guard.Run(ctx, () =>
        {
            var baskets = LoadBaskets(branch, start, stop, cache);
            try
            {
                return ColumnAssembler.Assemble(branch, baskets, start, stop, ctx);
            }
            finally
            {
                // When iterating, keep the last basket (the next chunk usually starts in it) and
                // return every other pooled buffer exactly once.
                var keep = cache is not null && baskets.Count > 0 ? baskets[^1] : null;
                if (cache is not null)
                {
                    if (cache.TryGetValue(branch.Record.Name, out var old) && !ReferenceEquals(old, keep) && !baskets.Contains(old))
                        old.Release();
                    if (keep is not null) cache[branch.Record.Name] = keep;
                }
                foreach (var p in baskets)
                    if (!ReferenceEquals(p, keep)) p.Release();
            }
        });
    }

    private static void Release(IEnumerable<BasketPayload> payloads, Dictionary<string, BasketPayload>? cache)
    {
        foreach (var p in payloads)
            if (cache is null || !cache.ContainsValue(p)) p.Release();
    }

    private List<BasketRef> BasketRefs(BranchRecord record, ReadContext ctx)
    {
        lock (_baskets)
        {
            if (!_baskets.TryGetValue(record, out var refs))
            {
                refs = BasketLoader.List(record, ctx);
                long covered = refs.Count == 0 ? 0 : refs[^1].EntryStop;
                if (covered < Math.Min(record.Entries, Entries))
                    throw ctx.Error($"baskets cover {covered} of {record.Entries} entries");
                _baskets[record] = refs;
            }
            return refs;
        }
    }
}
