// BenchmarkData: the synthetic JetClass-like file the benchmarks read: 100k jets, six
// vector<float> particle branches (10-100 particles per jet, seeded), written with RootTreeWriter
// (zlib level 1, default basket size, so each branch spans many baskets). Values are quantized
// to 1/256 so the baskets compress roughly as real particle data does.
using Hep.RootIO.Writing;

namespace Hep.RootIO.Benchmarks;

internal static class BenchmarkData
{
    public const int Jets = 100_000;
    public static readonly string[] Branches = ["part_px", "part_py", "part_pz", "part_energy", "part_deta", "part_dphi"];

    public static string Write(string directory)
    {
        string path = Path.Combine(directory, "bench-jets.root");
        var rng = new Random(12345);
        const int chunk = 10_000;
        using var writer = new RootTreeWriter(path, "tree", Branches.Select(b => BranchSpec.Vector(b, RootValueType.Float32)));
        for (int start = 0; start < Jets; start += chunk)
        {
            var offsets = new int[chunk + 1];
            for (int j = 0; j < chunk; j++) offsets[j + 1] = offsets[j] + rng.Next(10, 101);
            var columns = new Dictionary<string, WriteColumn>();
            foreach (var b in Branches)
            {
                var values = new float[offsets[^1]];
                // Detector-like resolution (1/256 GeV) so that zlib finds something to compress, as in real files.
                for (int i = 0; i < values.Length; i++) values[i] = MathF.Round((float)(rng.NextDouble() * 100 - 50) * 256f) / 256f;
                columns[b] = WriteColumn.Jagged(values, offsets);
            }
            writer.Append(chunk, columns);
        }
        writer.Complete();
        return path;
    }
}
