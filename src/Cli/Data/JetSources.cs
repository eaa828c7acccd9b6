using Hep.Cli.Options;
using Hep.RootIO;
using Hep.RootIO.Conversion;
using Hep.RootIO.Dataset;

namespace Hep.Cli.Data;

/// <summary>
/// Reads a --data_root folder into a <see cref="JetSet"/> plus the requested observables:
///   .npy layout (*_pf_vectors.npy (N,4,P) px/py/pz/E, *_pf_mask.npy, *_labels.npy), or
///   ROOT files in the weaver/JetClass layout (part_px/py/pz/energy vectors, one-hot label_* branches,
///   observables as scalar branches; tree "tree").
/// Every problem (missing folder, no data files, a missing branch, labels that are not one-hot,
/// non-finite values) is a <see cref="CliException"/> naming the folder, file or branch.
/// </summary>
public static class JetSources
{
    public static (JetSet Jets, Dictionary<string, float[]> Observables) Load(string dataRoot, IReadOnlyList<string>? labels,
        IReadOnlyList<string> observables, int fixedLength, TextWriter log)
    {
        if (!Directory.Exists(dataRoot)) throw new CliException($"flag --data_root: folder '{dataRoot}' does not exist");
        if (Directory.EnumerateFiles(dataRoot, "*_pf_vectors.npy").Any()) return (LoadNpy(dataRoot, fixedLength, observables), []);
        var rootFiles = Directory.EnumerateFiles(dataRoot, "*.root").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (rootFiles.Length == 0) throw new CliException($"flag --data_root: '{dataRoot}' holds no .root files and no *_pf_vectors.npy");
        return LoadRoot(dataRoot, rootFiles, labels, observables, fixedLength, log);
    }

    private static JetSet LoadNpy(string folder, int fixedLength, IReadOnlyList<string> observables)
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
        return Validate(new JetSet(n, fixedLength, p4, counts, set.LabelIndex, set.LabelNames), folder);
    }

    private static (JetSet, Dictionary<string, float[]>) LoadRoot(string folder, string[] files, IReadOnlyList<string>? labels,
        IReadOnlyList<string> observables, int fixedLength, TextWriter log)
    {
        string[] vectors = ["part_px", "part_py", "part_pz", "part_energy"];
        try
        {
            var dataset = RootDataset.FromFolder(folder, "tree");
            using var first = RootFile.Open(files[0]);
            var tree = first.GetTree("tree");
            var names = tree.Branches.Select(b => b.Name).ToHashSet();
            var labelNames = labels?.ToArray() ?? names.Where(b => b.StartsWith("label_", StringComparison.Ordinal)).OrderBy(b => b, StringComparer.Ordinal).ToArray();
            if (labelNames.Length < 2) throw new CliException($"flag --labels: need at least two label branches, found [{string.Join(", ", labelNames)}] in {files[0]}");
            foreach (var b in vectors.Concat(labelNames).Concat(observables))
            {
                if (!names.Contains(b))
                {
                    string flag = labelNames.Contains(b) ? "--labels" : observables.Contains(b) ? "--Observables" : "--data_root";
                    throw new CliException($"flag {flag}: branch '{b}' is not in tree 'tree' of {files[0]}");
                }
            }
            var columns = vectors.Concat(labelNames).Concat(observables).ToArray();
            var p4 = new List<float>();
            var counts = new List<int>();
            var labelIndex = new List<int>();
            var obs = observables.ToDictionary(o => o, _ => new List<float>());
            foreach (var chunk in dataset.IterateChunks(columns, 20_000))
            {
                var px = chunk["part_px"];
                var offsets = px.Offsets!;
                var cols = vectors.Select(v => chunk[v].ToFloat32()).ToArray();
                var labelCols = labelNames.Select(l => chunk[l].ToFloat32()).ToArray();
                int entries = offsets.Length - 1;
                for (int e = 0; e < entries; e++)
                {
                    int start = offsets[e], count = Math.Min(offsets[e + 1] - start, fixedLength);
                    var row = new float[fixedLength * 4];
                    for (int i = 0; i < count; i++)
                        for (int k = 0; k < 4; k++) row[i * 4 + k] = cols[k][start + i];
                    p4.AddRange(row);
                    counts.Add(count);
                    int hot = -1, ones = 0;
                    for (int l = 0; l < labelCols.Length; l++)
                    {
                        if (labelCols[l][e] != 0) { hot = l; ones++; }
                    }
                    if (ones != 1) throw new CliException($"flag --labels: labels are not one-hot at entry {counts.Count - 1} ({ones} of [{string.Join(", ", labelNames)}] set) in {folder}");
                    labelIndex.Add(hot);
                }
                foreach (var o in observables) obs[o].AddRange(chunk[o].ToFloat32());
            }
            log.WriteLine($"data: {counts.Count} jets from {files.Length} ROOT file(s) in {folder}; labels [{string.Join(", ", labelNames)}]");
            var set = new JetSet(counts.Count, fixedLength, [.. p4], [.. counts], [.. labelIndex], labelNames);
            return (Validate(set, folder), obs.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
        }
        catch (RootFormatException e)
        {
            throw new CliException($"flag --data_root: {e.Message}");
        }
    }

    // NaN/inf 4-vector components are counted, reported and replaced by 0 (weaver's behaviour); empty jets are an error.
    private static JetSet Validate(JetSet set, string source)
    {
        int bad = 0;
        for (int i = 0; i < set.P4.Length; i++)
        {
            if (!float.IsFinite(set.P4[i]))
            {
                set.P4[i] = 0;
                bad++;
            }
        }
        if (bad > 0) Console.Error.WriteLine($"warning: {bad} NaN/infinite particle values in {source} replaced by 0");
        int empty = Array.IndexOf(set.Counts, 0);
        if (empty >= 0) throw new CliException($"flag --data_root: jet {empty} in {source} has no particles");
        return set;
    }
}
