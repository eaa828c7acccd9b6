namespace Hep.Models.ParticleTransformer;

/// <summary>
/// ParT's pairwise Lorentz-vector features [ln kT, ln z, ln Δ, ln m²] (weaver-core v0.4.17
/// pairwise_lv_fts, spec §2.4) for every pair (i, j), i ≥ j, in torch.tril_indices order: pair (i, j)
/// at i(i+1)/2 + j, i = the "xi" particle. Evaluated in float32 with weaver's operation order and
/// clamps, each operation correctly rounded (log/atan2 through float64), so near-massless and
/// collinear pairs reproduce the reference's rounding (spec §2.8). No gradient flows through them.
/// </summary>
public static class PairFeatures
{
    public const int Channels = 4;
    private const float Eps = 1e-8f;
    private const float Pi = MathF.PI;
    private const float TwoPi = 2 * MathF.PI;

    /// <summary>Number of lower-triangle pairs (diagonal included) of N particles.</summary>
    public static int PairCount(int n) => n * (n + 1) / 2;

    /// <summary>vectors (B, 4, N) = (px, py, pz, E) → (B, 4, N(N+1)/2) float32 features on the same backend.</summary>
    public static Tensor Compute(Tensor vectors)
    {
        if (vectors.Rank != 3 || vectors.Shape[1] != 4) throw new ArgumentException($"PairFeatures: vectors must be (B, 4, N), got {vectors.Shape}");
        int b = vectors.Shape[0], n = vectors.Shape[2], p = PairCount(n);
        var v = vectors.DType == DType.Float32 ? vectors.ToArray<float>() : Array.ConvertAll(vectors.ToDoubleArray(), x => (float)x);
        var output = new float[(long)b * Channels * p];
        Parallel.For(0, b, batch => Jet(v, batch, n, p, output));
        using var host = Tensor.FromArray<float>(vectors.Backend, output, new Shape(b, Channels, p));
        return vectors.DType == DType.Float32 ? host.Alias() : TensorOps.Cast(host, vectors.DType);
    }

    private static void Jet(float[] v, int batch, int n, int p, float[] output)
    {
        var (pt, rap, phi) = Kinematics(v, batch, n);
        int baseIn = batch * 4 * n, outBase = batch * Channels * p;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++) Pair(v, baseIn, n, pt, rap, phi, i, j, output, outBase + i * (i + 1) / 2 + j, p);
        }
    }

    /// <summary>
    /// The features of the real pairs only: every (i, j), i ≥ j, with both particles real in
    /// <paramref name="mask"/> (B, 1, N), jet by jet in tril order → (1, 4, R) float32 features (the same
    /// arithmetic as <see cref="Compute"/>) and, per pair, its flat index b·P + i(i+1)/2 + j in the dense
    /// (B, 4, P) layout.
    /// </summary>
    public static (Tensor Features, int[] DenseIndex) ComputeRealPairs(Tensor vectors, Tensor mask)
    {
        if (vectors.Rank != 3 || vectors.Shape[1] != 4) throw new ArgumentException($"PairFeatures: vectors must be (B, 4, N), got {vectors.Shape}");
        int b = vectors.Shape[0], n = vectors.Shape[2];
        var index = RealPairs(mask, b, n);
        var v = vectors.DType == DType.Float32 ? vectors.ToArray<float>() : Array.ConvertAll(vectors.ToDoubleArray(), x => (float)x);
        var m = mask.ToDoubleArray();
        var output = new float[(long)Channels * index.Length];
        // Jet j's pairs start after the real pairs of the jets before it: c(c + 1)/2 each, c = real particles.
        var starts = new int[b + 1];
        for (int jet = 0; jet < b; jet++)
        {
            int c = 0;
            for (int i = 0; i < n; i++) c += m[jet * n + i] != 0 ? 1 : 0;
            starts[jet + 1] = starts[jet] + c * (c + 1) / 2;
        }
        Parallel.For(0, b, jet =>
        {
            var (pt, rap, phi) = Kinematics(v, jet, n);
            int r = starts[jet];
            for (int i = 0; i < n; i++)
            {
                if (m[jet * n + i] == 0) continue;
                for (int j = 0; j <= i; j++)
                {
                    if (m[jet * n + j] != 0) Pair(v, jet * 4 * n, n, pt, rap, phi, i, j, output, r++, index.Length);
                }
            }
        });
        using var host = Tensor.FromArray<float>(vectors.Backend, output, new Shape(1, Channels, index.Length));
        return (vectors.DType == DType.Float32 ? host.Alias() : TensorOps.Cast(host, vectors.DType), index);
    }

    /// <summary>Dense flat indices b·P + i(i+1)/2 + j (ascending) of the pairs i ≥ j whose particles are both real; mask (B, 1, N).</summary>
    public static int[] RealPairs(Tensor mask, int b, int n)
    {
        if (mask.Shape != new Shape(b, 1, n)) throw new ArgumentException($"PairFeatures: mask {mask.Shape} must be ({b}, 1, {n})");
        var m = mask.ToDoubleArray();
        int p = PairCount(n);
        var index = new List<int>();
        for (int jet = 0; jet < b; jet++)
        {
            for (int i = 0; i < n; i++)
            {
                if (m[jet * n + i] == 0) continue;
                for (int j = 0; j <= i; j++)
                {
                    if (m[jet * n + j] != 0) index.Add(jet * p + i * (i + 1) / 2 + j);
                }
            }
        }
        return [.. index];
    }

    // Per-particle pT, rapidity 0.5·ln(1 + 2pz / max(E − pz, 1e-20)) and φ of one jet.
    private static (float[] Pt, float[] Rap, float[] Phi) Kinematics(float[] v, int batch, int n)
    {
        int baseIn = batch * 4 * n;
        var pt = new float[n];
        var rap = new float[n];
        var phi = new float[n];
        for (int i = 0; i < n; i++)
        {
            float px = v[baseIn + i], py = v[baseIn + n + i], pz = v[baseIn + 2 * n + i], e = v[baseIn + 3 * n + i];
            pt[i] = MathF.Sqrt(px * px + py * py);
            float denominator = MathF.Max(e - pz, 1e-20f);
            rap[i] = 0.5f * Log(1f + 2f * pz / denominator);
            phi[i] = (float)Math.Atan2(py, px);
        }
        return (pt, rap, phi);
    }

    // The four features of pair (i, j) written at output[at + c·stride], c = 0..3.
    private static void Pair(float[] v, int baseIn, int n, float[] pt, float[] rap, float[] phi, int i, int j, float[] output, int at, int stride)
    {
        float dRap = rap[i] - rap[j];
        float dPhi = FloorMod(phi[i] - phi[j] + Pi, TwoPi) - Pi;
        float delta = MathF.Sqrt(dRap * dRap + dPhi * dPhi);
        float lnDelta = Log(MathF.Max(delta, Eps));
        float ptMin = MathF.Min(pt[i], pt[j]);
        float lnKt = Log(MathF.Max(ptMin * delta, Eps));
        float lnZ = Log(MathF.Max(ptMin / MathF.Max(pt[i] + pt[j], Eps), Eps));
        float sx = v[baseIn + i] + v[baseIn + j];
        float sy = v[baseIn + n + i] + v[baseIn + n + j];
        float sz = v[baseIn + 2 * n + i] + v[baseIn + 2 * n + j];
        float se = v[baseIn + 3 * n + i] + v[baseIn + 3 * n + j];
        float p2 = (sx * sx + sy * sy) + sz * sz;
        float lnM2 = Log(MathF.Max(se * se - p2, Eps));
        output[at] = lnKt;
        output[at + stride] = lnZ;
        output[at + 2 * stride] = lnDelta;
        output[at + 3 * stride] = lnM2;
    }

    // Correctly rounded float32 log via float64.
    private static float Log(float x) => (float)Math.Log(x);

    // torch.remainder for floats: fmod, shifted into the divisor's sign.
    private static float FloorMod(float a, float b)
    {
        float mod = a % b;
        if (mod != 0 && (b < 0) != (mod < 0)) mod += b;
        return mod;
    }

    /// <summary>
    /// Int32 (N·N) map from the full (i, j) grid to the lower-triangle pair index, so that an
    /// index-select of the pair axis fills both (i, j) and (j, i) with the same element.
    /// </summary>
    public static int[] SymmetricIndex(int n)
    {
        var map = new int[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int hi = Math.Max(i, j), lo = Math.Min(i, j);
                map[i * n + j] = hi * (hi + 1) / 2 + lo;
            }
        }
        return map;
    }
}
