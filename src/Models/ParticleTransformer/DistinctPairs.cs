namespace Hep.Models.ParticleTransformer;

/// <summary>
/// The distinct rows of a dense pair-feature batch (B, C, P) for the training-mode pair embedding.
/// The embedding is pointwise per pair (1×1 convs, per-channel batch-norm affine, GELU), so pairs with
/// bit-identical features have identical outputs at every layer; only the batch-norm statistics see the
/// whole batch, and they are the same if each distinct row is counted with its multiplicity. With
/// zero-padded particles most of weaver's dense lower triangle is duplicates: every (padded, padded)
/// pair has the features of the zero vectors, and every (real r, padded) pair of a jet those of r with a
/// zero vector — about 85 % of the pairs in a TopLandscape batch at N = 128.
///
/// Duplicates are found structurally (a pair with a padded particle is a candidate copy of the first pair
/// of its class: (jet, real particle) or (padded, padded) across the batch) and every candidate is
/// verified bit for bit against its representative's C features; a mismatch keeps its own row. So the
/// grouping is exact for any input, padded vectors zero or not.
/// </summary>
public sealed class DistinctPairs
{
    private DistinctPairs(int[] representatives, double[] multiplicity, int[] denseToDistinct)
    {
        Representatives = representatives;
        Multiplicity = multiplicity;
        DenseToDistinct = denseToDistinct;
    }

    /// <summary>Flat dense index b·P + p of each distinct row's first occurrence (U entries).</summary>
    public int[] Representatives { get; }

    /// <summary>How many dense pairs each distinct row stands for (U entries, summing to B·P).</summary>
    public double[] Multiplicity { get; }

    /// <summary>Distinct row of every dense pair b·P + p.</summary>
    public int[] DenseToDistinct { get; }

    public int Count => Representatives.Length;

    /// <summary>
    /// Groups the pairs of <paramref name="features"/> (B, C, P = N(N+1)/2, host values in any precision)
    /// given <paramref name="mask"/> (B·N values, non-zero = real particle).
    /// </summary>
    public static DistinctPairs Find(double[] features, int b, int c, int n, double[] mask)
    {
        int p = PairFeatures.PairCount(n);
        if (features.Length != (long)b * c * p) throw new ArgumentException($"DistinctPairs: {features.Length} features are not ({b}, {c}, {p})");
        if (mask.Length != b * n) throw new ArgumentException($"DistinctPairs: mask has {mask.Length} values, not {b}·{n}");
        // Phase 1, per jet: the class of each pair (−1: own row; r < N: real r with a padded partner; N: both
        // padded) after checking it against the class's first pair in the jet.
        var cls = new int[(long)b * p];
        Parallel.For(0, b, jet =>
        {
            var first = new int[n + 1];
            Array.Fill(first, -1);
            for (int i = 0; i < n; i++)
            {
                bool ri = mask[jet * n + i] != 0;
                for (int j = 0; j <= i; j++)
                {
                    int at = jet * p + i * (i + 1) / 2 + j;
                    bool rj = mask[jet * n + j] != 0;
                    int k = ri && rj ? -1 : ri ? i : rj ? j : n;
                    if (k >= 0)
                    {
                        if (first[k] < 0) first[k] = at;
                        else if (!Same(features, c, p, first[k], at)) k = -1;
                    }
                    cls[at] = k;
                }
            }
        });
        // Phase 2, in order: distinct ids; the (padded, padded) class is shared across jets when identical.
        var map = new int[(long)b * p];
        var reps = new List<int>();
        var counts = new List<double>();
        int globalPadded = -1;
        var id = new int[n + 1];
        for (int jet = 0; jet < b; jet++)
        {
            Array.Fill(id, -1);
            for (int q = 0; q < p; q++)
            {
                int at = jet * p + q, k = cls[at];
                int d = k < 0 ? -1 : id[k];
                if (d < 0 && k == n && globalPadded >= 0 && Same(features, c, p, reps[globalPadded], at)) d = globalPadded;
                if (d < 0)
                {
                    d = reps.Count;
                    reps.Add(at);
                    counts.Add(0);
                    if (k == n && globalPadded < 0) globalPadded = d;
                }
                if (k >= 0) id[k] = d;
                counts[d]++;
                map[at] = d;
            }
        }
        return new DistinctPairs([.. reps], [.. counts], map);
    }

    // Bit-identical features of dense pairs a and b (flat b·P + p): identical outputs at every layer.
    private static bool Same(double[] f, int c, int p, int a, int b)
    {
        int ja = a / p, qa = a % p, jb = b / p, qb = b % p;
        for (int ch = 0; ch < c; ch++)
        {
            if (BitConverter.DoubleToInt64Bits(f[((long)ja * c + ch) * p + qa]) != BitConverter.DoubleToInt64Bits(f[((long)jb * c + ch) * p + qb]))
                return false;
        }
        return true;
    }
}
