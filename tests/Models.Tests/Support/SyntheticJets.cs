namespace Hep.Models.Tests.Support;

/// <summary>
/// Seeded synthetic jets for shape, invariance and gradient tests: continuous random (Δη, Δφ) points
/// (no distance ties), features, massive 4-vectors, and real particles first with zero padding.
/// </summary>
internal sealed class SyntheticJets
{
    private SyntheticJets(int batch, int slots, int features, int[] counts)
    {
        Batch = batch;
        Slots = slots;
        FeatureCount = features;
        Counts = counts;
        Points = new double[batch * 2 * slots];
        Features = new double[batch * features * slots];
        Vectors = new double[batch * 4 * slots];
        Mask = new double[batch * slots];
    }

    public SyntheticJets(int batch, int slots, int features, int[] counts, int seed) : this(batch, slots, features, counts)
    {
        var rng = new Random(seed);
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < counts[b]; i++)
            {
                Mask[b * slots + i] = 1;
                for (int c = 0; c < 2; c++) Points[(b * 2 + c) * slots + i] = 0.4 * (rng.NextDouble() * 2 - 1);
                for (int c = 0; c < features; c++) Features[(b * features + c) * slots + i] = rng.NextDouble() * 2 - 1;
                double pt = 5 + 50 * rng.NextDouble(), eta = 0.5 * (rng.NextDouble() * 2 - 1), phi = 0.5 * (rng.NextDouble() * 2 - 1), m = 0.1 + rng.NextDouble();
                double px = pt * Math.Cos(phi), py = pt * Math.Sin(phi), pz = pt * Math.Sinh(eta);
                double e = Math.Sqrt(px * px + py * py + pz * pz + m * m);
                double[] v = [px, py, pz, e];
                for (int c = 0; c < 4; c++) Vectors[(b * 4 + c) * slots + i] = v[c];
            }
        }
    }

    public int Batch { get; }
    public int Slots { get; }
    public int FeatureCount { get; }
    public int[] Counts { get; }
    public double[] Points { get; }
    public double[] Features { get; }
    public double[] Vectors { get; }
    public double[] Mask { get; }

    public Tensor PointsTensor(IBackend backend, DType dtype) => Operands.FromDoubles(backend, Points, new Shape(Batch, 2, Slots), dtype);
    public Tensor FeaturesTensor(IBackend backend, DType dtype) => Operands.FromDoubles(backend, Features, new Shape(Batch, FeatureCount, Slots), dtype);
    public Tensor VectorsTensor(IBackend backend, DType dtype) => Operands.FromDoubles(backend, Vectors, new Shape(Batch, 4, Slots), dtype);
    public Tensor MaskTensor(IBackend backend, DType dtype) => Operands.FromDoubles(backend, Mask, new Shape(Batch, 1, Slots), dtype);

    /// <summary>The same jets with the real particles of each jet reordered by a seeded permutation.</summary>
    public SyntheticJets Shuffled(int seed)
    {
        var shuffled = new SyntheticJets(Batch, Slots, FeatureCount, Counts);
        var rng = new Random(seed);
        for (int b = 0; b < Batch; b++)
        {
            var order = Enumerable.Range(0, Counts[b]).OrderBy(_ => rng.Next()).ToArray();
            for (int i = 0; i < Slots; i++)
            {
                int from = i < Counts[b] ? order[i] : i;
                shuffled.Mask[b * Slots + i] = Mask[b * Slots + from];
                for (int c = 0; c < 2; c++) shuffled.Points[(b * 2 + c) * Slots + i] = Points[(b * 2 + c) * Slots + from];
                for (int c = 0; c < FeatureCount; c++) shuffled.Features[(b * FeatureCount + c) * Slots + i] = Features[(b * FeatureCount + c) * Slots + from];
                for (int c = 0; c < 4; c++) shuffled.Vectors[(b * 4 + c) * Slots + i] = Vectors[(b * 4 + c) * Slots + from];
            }
        }
        return shuffled;
    }

    /// <summary>The same jets with <paramref name="extra"/> more zero-padded slots.</summary>
    public SyntheticJets Padded(int extra)
    {
        var wide = new SyntheticJets(Batch, Slots + extra, FeatureCount, Counts);
        for (int b = 0; b < Batch; b++)
        {
            for (int i = 0; i < Slots + extra; i++)
            {
                bool inside = i < Slots;
                wide.Mask[b * (Slots + extra) + i] = inside ? Mask[b * Slots + i] : 0;
                for (int c = 0; c < 2; c++) wide.Points[(b * 2 + c) * (Slots + extra) + i] = inside ? Points[(b * 2 + c) * Slots + i] : 0;
                for (int c = 0; c < FeatureCount; c++) wide.Features[(b * FeatureCount + c) * (Slots + extra) + i] = inside ? Features[(b * FeatureCount + c) * Slots + i] : 0;
                for (int c = 0; c < 4; c++) wide.Vectors[(b * 4 + c) * (Slots + extra) + i] = inside ? Vectors[(b * 4 + c) * Slots + i] : 0;
            }
        }
        return wide;
    }
}
