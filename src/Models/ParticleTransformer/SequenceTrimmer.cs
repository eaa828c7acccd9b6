namespace Hep.Models.ParticleTransformer;

/// <summary>
/// weaver's SequenceTrimmer (spec §2.3 step 0), on constant inputs: a no-op for the first 5 calls; then
/// in eval mode the particle axis is cut to the batch's largest real count (outputs unchanged, padding
/// sits last), and in training the real particles of each jet are shuffled (padding stays last) and the
/// axis cut to the q-quantile of the counts, q ~ U(0.9, 1.02) clipped to 1.
/// </summary>
public sealed class SequenceTrimmer(bool enabled, int seed = 0)
{
    private readonly Random _random = new(seed);
    private int _calls;

    public bool Enabled { get; } = enabled;

    /// <summary>
    /// features (B, C, N), vectors (B, 4, N) or null, mask (B, 1, N) → trimmed (and in training shuffled)
    /// copies; <c>Changed</c> is false when the inputs are returned as they are (aliases).
    /// </summary>
    public (Tensor Features, Tensor? Vectors, Tensor Mask, bool Changed) Apply(Tensor features, Tensor? vectors, Tensor mask, bool training)
    {
        if (!Enabled || _calls < 5)
        {
            if (Enabled) _calls++;
            return (features.Alias(), vectors?.Alias(), mask.Alias(), false);
        }
        int b = mask.Shape[0], n = mask.Shape[2];
        var m = mask.ToDoubleArray();
        var counts = new int[b];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < n; j++) counts[i] += m[i * n + j] != 0 ? 1 : 0;
        int maxLength;
        Tensor? order = null;
        if (training)
        {
            double q = Math.Min(1, 0.9 + 0.12 * _random.NextDouble());
            maxLength = (int)Quantile(counts, q);
            var perm = new int[b * n];
            for (int i = 0; i < b; i++)
            {
                var keys = new double[n];
                for (int j = 0; j < n; j++) keys[j] = m[i * n + j] != 0 ? _random.NextDouble() : -1;
                var idx = Enumerable.Range(0, n).OrderByDescending(j => keys[j]).ToArray();
                Array.Copy(idx, 0, perm, i * n, n);
            }
            order = Tensor.FromArray<int>(mask.Backend, perm, new Shape(b, 1, n));
        }
        else
        {
            maxLength = counts.Max();
        }
        maxLength = Math.Clamp(maxLength, 1, n);
        using (order)
        {
            return (Cut(features, order, maxLength), vectors is null ? null : Cut(vectors, order, maxLength), Cut(mask, order, maxLength), true);
        }
    }

    private static Tensor Cut(Tensor x, Tensor? order, int length)
    {
        using var permuted = order is null ? x.Alias() : Permute(x, order);
        return TensorOps.SliceCopy(permuted, 2, 0, length);
    }

    private static Tensor Permute(Tensor x, Tensor order)
    {
        using var wide = order.Expand(x.Shape);
        using var dense = TensorOps.Contiguous(wide, forceCopy: true);
        return TensorOps.Gather(x, 2, dense);
    }

    // torch.quantile with linear interpolation, truncated to an integer length like weaver's .long().
    private static double Quantile(int[] values, double q)
    {
        var sorted = values.Select(v => (double)v).OrderBy(v => v).ToArray();
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return Math.Floor(sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]));
    }
}
