using Hep.Cli.Options;
using Hep.RootIO;
using Hep.RootIO.Dataset;
using Hep.RootIO.Trees;

namespace Hep.Cli.Data;

/// <summary>
/// Jets streamed from ROOT files in the weaver/JetClass layout (tree "tree": part_px/py/pz/energy
/// vectors, one-hot label_* branches, scalar observables), a chunk of entries at a time. Branches are
/// checked when the store opens; each chunk is converted to padded 4-vectors (truncated to
/// <c>fixedLength</c>) and validated (<see cref="JetValidation"/>). Ids are entry numbers across the
/// files in name order, whatever order a pass reads them in.
/// </summary>
public sealed class RootJetStore : IJetStore
{
    private static readonly string[] Vectors = ["part_px", "part_py", "part_pz", "part_energy"];
    private readonly string[] _files;
    private readonly long[] _fileStart;
    private readonly string[] _columns;
    private readonly int _chunkEntries;
    private readonly bool _rejectNonFinite;
    private readonly TextWriter _log;
    private readonly HashSet<long> _warned = [];

    public RootJetStore(string folder, IReadOnlyList<string>? labels, IReadOnlyList<string> observables, int fixedLength, int chunkEntries,
        bool rejectNonFinite, TextWriter log)
    {
        _files = Directory.EnumerateFiles(folder, "*.root").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (_files.Length == 0) throw new CliException($"flag --data_root: '{folder}' holds no .root files");
        MaxParticles = fixedLength;
        _chunkEntries = chunkEntries;
        _rejectNonFinite = rejectNonFinite;
        _log = log;
        ObservableNames = [.. observables];
        try
        {
            var dataset = new RootDataset(_files, "tree");
            _fileStart = new long[_files.Length];
            for (int i = 1; i < _files.Length; i++) _fileStart[i] = _fileStart[i - 1] + dataset.EntriesPerFile[i - 1];
            Count = dataset.Entries;
            using var first = RootFile.Open(_files[0]);
            var names = first.GetTree("tree").Branches.Select(b => b.Name).ToHashSet();
            LabelNames = labels?.ToArray() ?? names.Where(b => b.StartsWith("label_", StringComparison.Ordinal)).OrderBy(b => b, StringComparer.Ordinal).ToArray();
            if (LabelNames.Length < 2)
                throw new CliException($"flag --labels: need at least two label branches, found [{string.Join(", ", LabelNames)}] in {_files[0]}");
            _columns = [.. Vectors, .. LabelNames, .. observables];
            foreach (var file in _files)
            {
                using var f = RootFile.Open(file);
                var present = f.GetTree("tree").Branches.Select(b => b.Name).ToHashSet();
                foreach (var b in _columns.Where(c => !present.Contains(c)))
                {
                    string flag = LabelNames.Contains(b) ? "--labels" : observables.Contains(b) ? "--Observables" : "--data_root";
                    throw new CliException($"flag {flag}: branch '{b}' is not in tree 'tree' of {file}");
                }
            }
        }
        catch (RootFormatException e)
        {
            throw new CliException($"flag --data_root: {e.Message}");
        }
    }

    public long Count { get; }
    public int MaxParticles { get; }
    public string[] LabelNames { get; }
    public string[] ObservableNames { get; }
    public bool Streams => true;
    public int Files => _files.Length;

    public IEnumerable<JetChunk> Chunks(int fileOrderSeed = -1)
    {
        var order = Enumerable.Range(0, _files.Length).ToArray();
        if (fileOrderSeed >= 0) new Random(fileOrderSeed).Shuffle(order);
        foreach (int f in order)
        {
            IEnumerator<TreeChunk> chunks;
            try
            {
                chunks = new RootDataset([_files[f]], "tree").IterateChunks(_columns, _chunkEntries).GetEnumerator();
            }
            catch (RootFormatException e)
            {
                throw new CliException($"flag --data_root: {e.Message}");
            }
            using (chunks)
            {
                while (true)
                {
                    try
                    {
                        if (!chunks.MoveNext()) break;
                    }
                    catch (RootFormatException e)
                    {
                        throw new CliException($"flag --data_root: {e.Message}");
                    }
                    yield return Convert(chunks.Current, _fileStart[f], _files[f]);
                }
            }
        }
    }

    private JetChunk Convert(TreeChunk chunk, long fileStart, string file)
    {
        int p = MaxParticles, entries = chunk.EntryCount;
        var offsets = chunk["part_px"].Offsets ?? throw new CliException($"flag --data_root: branch 'part_px' in {file} is not a per-particle vector");
        var cols = Vectors.Select(v => chunk[v].ToFloat32()).ToArray();
        var labelCols = LabelNames.Select(l => chunk[l].ToFloat32()).ToArray();
        var p4 = new float[entries * p * 4];
        var counts = new int[entries];
        var labels = new int[entries];
        var ids = new long[entries];
        for (int e = 0; e < entries; e++)
        {
            ids[e] = fileStart + chunk.EntryStart + e;
            int start = offsets[e], count = Math.Min(offsets[e + 1] - start, p);
            for (int i = 0; i < count; i++)
                for (int k = 0; k < 4; k++) p4[(e * p + i) * 4 + k] = cols[k][start + i];
            counts[e] = count;
            int hot = -1, ones = 0;
            for (int l = 0; l < labelCols.Length; l++)
            {
                if (labelCols[l][e] != 0)
                {
                    hot = l;
                    ones++;
                }
            }
            if (ones != 1)
                throw new CliException($"flag --labels: labels are not one-hot at entry {ids[e]} ({ones} of [{string.Join(", ", LabelNames)}] set) in {file}");
            labels[e] = hot;
        }
        var jets = new JetSet(entries, p, p4, counts, labels, LabelNames);
        int bad = JetValidation.Clean(jets, ids, file, _rejectNonFinite);
        if (bad > 0 && _warned.Add(ids.Length > 0 ? ids[0] : -1))
            _log.WriteLine($"warning: {bad} NaN/infinite particle values in {file} (entries {ids[0]}–{ids[^1]}) replaced by 0");
        var obs = ObservableNames.ToDictionary(o => o, o => chunk[o].ToFloat32());
        return new JetChunk(jets, ids, obs);
    }
}
