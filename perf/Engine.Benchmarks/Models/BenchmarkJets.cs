using Hep.Engine;
using Hep.RootIO.Conversion;
using TorchSharp;

namespace Hep.Benchmarks.Models;

/// <summary>
/// One batch of real jets for the full-model benchmarks: the first <c>B</c> jets of the shared
/// TopLandscape subset (shared/data/toptagging-toplandscape-2k, N = 128 slots, zero-padded, 16–114 real
/// particles, mean ≈ 49), with the 7 "kin" features of top_kin.yaml rebuilt from the 4-vectors (ln pT,
/// ln E, ln pT/pT_jet, ln E/E_jet, ΔR standardised as weaver does, then raw Δη, Δφ; jet = sum of the
/// real constituents). Held as host arrays; each side makes its own tensors from them.
/// </summary>
internal sealed class BenchmarkJets
{
    public const int Features = 7;
    private static readonly (double Subtract, double Multiply)[] Standardisation = [(1.7, 0.7), (2.0, 0.7), (-4.7, 0.7), (-4.7, 0.7), (0.2, 4.0)];

    private BenchmarkJets(int jets, int slots, float[] points, float[] vectors, float[] mask, int[] labels)
    {
        Jets = jets;
        Slots = slots;
        Points = points;
        Vectors = vectors;
        Mask = mask;
        Labels = labels;
        FeatureValues = BuildFeatures();
    }

    public int Jets { get; }
    public int Slots { get; }
    public float[] Points { get; }
    public float[] Vectors { get; }
    public float[] Mask { get; }
    public float[] FeatureValues { get; }
    public int[] Labels { get; }

    /// <summary>Real particles per jet.</summary>
    public int[] Counts => Enumerable.Range(0, Jets).Select(j => Mask.Skip(j * Slots).Take(Slots).Count(m => m != 0)).ToArray();

    /// <summary>The first <paramref name="jets"/> jets of the TopLandscape subset (labels 0 = top, 1 = QCD, weaver's order).</summary>
    public static BenchmarkJets TopLandscape(int jets)
    {
        string folder = Path.Combine(SharedRoot(), "data", "toptagging-toplandscape-2k");
        NpyArray Load(string name)
        {
            string path = Path.Combine(folder, name);
            if (!File.Exists(path)) throw new FileNotFoundException($"model benchmarks: shared jet file missing: {path}");
            return NpyArray.Load(path);
        }
        var points = Load("tl_pf_points.npy");
        int slots = points.Shape[2];
        if (points.Shape[0] < jets) throw new ArgumentException($"model benchmarks: the subset has {points.Shape[0]} jets, {jets} requested");
        float[] First(NpyArray a, int channels) => a.As<float>().AsSpan(0, jets * channels * slots).ToArray();
        var labels = Load("tl_labels.npy").As<long>().Take(jets).Select(l => l == 1 ? 0 : 1).ToArray();
        return new BenchmarkJets(jets, slots, First(points, 2), First(Load("tl_pf_vectors.npy"), 4), First(Load("tl_pf_mask.npy"), 1), labels);
    }

    // ../shared next to the repository root (the folder holding Engine.sln).
    private static string SharedRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException($"model benchmarks: Engine.sln not found above {AppContext.BaseDirectory}");
        return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
    }

    private float[] BuildFeatures()
    {
        int n = Slots;
        var output = new float[Jets * Features * n];
        for (int b = 0; b < Jets; b++)
        {
            double sx = 0, sy = 0, se = 0;
            for (int i = 0; i < n; i++)
            {
                if (Mask[b * n + i] == 0) continue;
                sx += Vectors[(b * 4) * n + i];
                sy += Vectors[(b * 4 + 1) * n + i];
                se += Vectors[(b * 4 + 3) * n + i];
            }
            double jetPt = Math.Sqrt(sx * sx + sy * sy);
            for (int i = 0; i < n; i++)
            {
                if (Mask[b * n + i] == 0) continue;
                double px = Vectors[(b * 4) * n + i], py = Vectors[(b * 4 + 1) * n + i], e = Vectors[(b * 4 + 3) * n + i];
                double deta = Points[(b * 2) * n + i], dphi = Points[(b * 2 + 1) * n + i];
                double pt = Math.Sqrt(px * px + py * py);
                double[] raw = [Math.Log(pt), Math.Log(e), Math.Log(pt / jetPt), Math.Log(e / se), Math.Sqrt(deta * deta + dphi * dphi)];
                for (int c = 0; c < raw.Length; c++)
                    output[(b * Features + c) * n + i] = (float)Math.Clamp((raw[c] - Standardisation[c].Subtract) * Standardisation[c].Multiply, -5, 5);
                output[(b * Features + 5) * n + i] = (float)deta;
                output[(b * Features + 6) * n + i] = (float)dphi;
            }
        }
        return output;
    }

    public Tensor Engine(IBackend backend, float[] values, int channels) => Tensor.FromArray<float>(backend, values, new Shape(Jets, channels, Slots));

    public Tensor EngineLabels(IBackend backend) => Tensor.FromArray<int>(backend, Labels, new Shape(Jets));

    public torch.Tensor Torch(float[] values, int channels) => torch.tensor(values, new long[] { Jets, channels, Slots });

    public torch.Tensor TorchLabels() => torch.tensor(Array.ConvertAll(Labels, l => (long)l), new long[] { Jets });
}
