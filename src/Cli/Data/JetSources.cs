using Hep.Cli.Options;
using Hep.RootIO;
using Hep.RootIO.Conversion;
using Hep.RootIO.Dataset;

namespace Hep.Cli.Data;

/// <summary>
/// Opens a --data_root folder as a jet store:
///   .npy layout (*_pf_vectors.npy (N,4,P) px/py/pz/E, *_pf_mask.npy, *_labels.npy): loaded into memory;
///   ROOT files in the weaver/JetClass layout (<see cref="RootJetStore"/>): loaded into memory when they
///   hold at most <c>inMemoryJets</c> jets, otherwise streamed from disk chunk by chunk on every pass.
/// Every problem (missing folder, no data files, a missing branch, labels that are not one-hot,
/// non-finite values, empty jets) is a <see cref="CliException"/> naming the folder, file or branch.
/// </summary>
public static class JetSources
{
    public static IJetStore Open(string dataRoot, IReadOnlyList<string>? labels, IReadOnlyList<string> observables, int fixedLength,
        long inMemoryJets, bool rejectNonFinite, TextWriter log)
    {
        if (!Directory.Exists(dataRoot)) throw new CliException($"flag --data_root: folder '{dataRoot}' does not exist");
        if (Directory.EnumerateFiles(dataRoot, "*_pf_vectors.npy").Any())
        {
            var jets = LoadNpy(dataRoot, fixedLength, observables, rejectNonFinite, log);
            log.WriteLine($"data: {jets.Count} jets from the .npy files in {dataRoot}; labels [{string.Join(", ", jets.LabelNames)}]");
            return new InMemoryJetStore(jets, new Dictionary<string, float[]>());
        }
        if (!Directory.EnumerateFiles(dataRoot, "*.root").Any())
            throw new CliException($"flag --data_root: '{dataRoot}' holds no .root files and no *_pf_vectors.npy");
        int chunk = (int)Math.Clamp(inMemoryJets / 4, 1024, 20_000);
        var store = new RootJetStore(dataRoot, labels, observables, fixedLength, chunk, rejectNonFinite, log);
        string what = $"{store.Count} jets in {store.Files} ROOT file(s) in {dataRoot}; labels [{string.Join(", ", store.LabelNames)}]";
        if (store.Count > inMemoryJets)
        {
            log.WriteLine($"data: {what}; streamed from disk (more than --in_memory_jets {inMemoryJets}), shuffled in blocks of {inMemoryJets}");
            return store;
        }
        log.WriteLine($"data: {what}");
        var (all, obs) = Concat(store.Chunks(), fixedLength, store.LabelNames, observables);
        return new InMemoryJetStore(all, obs);
    }

    /// <summary>The whole folder in memory (tests, small data).</summary>
    public static (JetSet Jets, Dictionary<string, float[]> Observables) Load(string dataRoot, IReadOnlyList<string>? labels,
        IReadOnlyList<string> observables, int fixedLength, TextWriter log)
    {
        var store = Open(dataRoot, labels, observables, fixedLength, long.MaxValue, rejectNonFinite: false, log);
        return Concat(store.Chunks(), fixedLength, store.LabelNames, observables);
    }

    private static (JetSet, Dictionary<string, float[]>) Concat(IEnumerable<JetChunk> chunks, int fixedLength, string[] labelNames, IReadOnlyList<string> observables)
    {
        var parts = chunks.ToList();
        if (parts.Count == 1) return (parts[0].Jets, parts[0].Observables.ToDictionary(kv => kv.Key, kv => kv.Value));
        int n = parts.Sum(c => c.Jets.Count), stride = fixedLength * 4, at = 0;
        var p4 = new float[(long)n * stride];
        var counts = new int[n];
        var labels = new int[n];
        foreach (var c in parts)
        {
            Array.Copy(c.Jets.P4, 0, p4, (long)at * stride, (long)c.Jets.Count * stride);
            c.Jets.Counts.CopyTo(counts, at);
            c.Jets.Labels.CopyTo(labels, at);
            at += c.Jets.Count;
        }
        var set = new JetSet(n, fixedLength, p4, counts, labels, labelNames);
        return (set, observables.ToDictionary(o => o, o => parts.SelectMany(c => c.Observables[o]).ToArray()));
    }

    private static JetSet LoadNpy(string folder, int fixedLength, IReadOnlyList<string> observables, bool rejectNonFinite, TextWriter log)
    {
        if (observables.Count > 0) throw new CliException($"flag --Observables: the .npy layout in '{folder}' carries no observables");
        JetNpySet set;
        try
        {
            set = JetNpySet.Load(folder);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or RootFormatException)
        {
            throw new CliException($"flag --data_root: {e.Message}");
        }
        int n = set.Jets, p = set.MaxParticles, keep = Math.Min(p, fixedLength);
        var p4 = new float[n * fixedLength * 4];
        var counts = new int[n];
        for (int j = 0; j < n; j++)
        {
            int c = 0;
            for (int i = 0; i < p && c < keep; i++)
            {
                if (set.Mask[j * p + i] == 0) continue;
                for (int k = 0; k < 4; k++) p4[(j * fixedLength + c) * 4 + k] = set.Vectors[(j * 4 + k) * p + i];
                c++;
            }
            counts[j] = c;
        }
        var jets = new JetSet(n, fixedLength, p4, counts, set.LabelIndex, set.LabelNames);
        int bad = JetValidation.Clean(jets, Enumerable.Range(0, n).Select(i => (long)i).ToArray(), folder, rejectNonFinite);
        if (bad > 0) log.WriteLine($"warning: {bad} NaN/infinite particle values in {folder} replaced by 0");
        return jets;
    }
}
