namespace Hep.Models.Tests.Reference;

/// <summary>
/// For each pair feature of a ParT golden case, the range [Low, High] of float32 values that weaver's
/// formulas (golden README, "ParT pair features") give when every transcendental result (ln of the rapidity
/// argument, atan2, and the final ln) may be off by up to K float32 ulps from the correctly rounded one;
/// all other operations (+, −, ×, /, √, max, min, remainder) are exact-rounded as in libtorch.
///
/// The reference's float32 log/atan2 are not always correctly rounded, so "the golden pair feature lies in
/// its envelope for a small K" is the precise statement that our pair-feature step reproduces the
/// reference's arithmetic up to those functions' rounding. A feature whose K = 1 envelope is wide is
/// float32 rounding noise (a collinear pair's ΔR of a few ulps of the rapidities, spec §2.8): one ulp in
/// one log moves it by far more than float32 resolution.
///
/// Interval bounds are exact for the rounded arithmetic: each step is monotone in each perturbed input
/// (Δy in y_i and −y_j, Δφ in φ_i and −φ_j away from the remainder's wrap, √(Δy² + Δφ²) in |Δy| and |Δφ|,
/// ln), so the extremes are reached at the ±K corners. Equal arguments are taken to give equal results
/// (a function of its argument), so the pair (i, i) and duplicate particles have Δy = Δφ = 0 exactly.
/// </summary>
internal sealed class PairFeatureEnvelope
{
    private const float Eps = 1e-8f;

    private PairFeatureEnvelope(float[] low, float[] high)
    {
        Low = low;
        High = high;
    }

    /// <summary>(B, 4, P) lower bounds, same layout as pair_embed.pair_fts.</summary>
    public float[] Low { get; }

    /// <summary>(B, 4, P) upper bounds.</summary>
    public float[] High { get; }

    /// <summary>vectors (B, 4, N) = (px, py, pz, E) as float32, row-major; K ≥ 0 ulps per transcendental.</summary>
    public static PairFeatureEnvelope Compute(float[] vectors, int b, int n, int k)
    {
        int p = n * (n + 1) / 2;
        var low = new float[b * 4 * p];
        var high = new float[b * 4 * p];
        for (int jet = 0; jet < b; jet++)
        {
            int at0 = jet * 4 * n;
            float X(int c, int i) => vectors[at0 + c * n + i];
            var pt = new float[n];
            var arg = new float[n];
            var phiArg = new (float Y, float X)[n];
            var lnArgLo = new float[n];
            var lnArgHi = new float[n];
            var phiLo = new float[n];
            var phiHi = new float[n];
            for (int i = 0; i < n; i++)
            {
                float px = X(0, i), py = X(1, i), pz = X(2, i), e = X(3, i);
                pt[i] = MathF.Sqrt(px * px + py * py);
                arg[i] = 1f + 2f * pz / MathF.Max(e - pz, 1e-20f);
                phiArg[i] = (py, px);
                float lnArg = Log(arg[i]);
                (lnArgLo[i], lnArgHi[i]) = (Ulps(lnArg, -k), Ulps(lnArg, k));
                float phi = (float)Math.Atan2(py, px);
                (phiLo[i], phiHi[i]) = (Ulps(phi, -k), Ulps(phi, k));
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    int at = jet * 4 * p + i * (i + 1) / 2 + j;
                    // Δy = 0.5·ln(arg_i) − 0.5·ln(arg_j): increasing in ln(arg_i), decreasing in ln(arg_j).
                    // Equal arguments give equal results (the pair (i, i), duplicate particles): no perturbation.
                    bool sameY = arg[i] == arg[j], samePhi = phiArg[i] == phiArg[j];
                    float dyLo = sameY ? 0 : 0.5f * lnArgLo[i] - 0.5f * lnArgHi[j], dyHi = sameY ? 0 : 0.5f * lnArgHi[i] - 0.5f * lnArgLo[j];
                    float dpLo = FloorMod((samePhi ? 0 : phiLo[i] - phiHi[j]) + MathF.PI, 2 * MathF.PI) - MathF.PI;
                    float dpHi = FloorMod((samePhi ? 0 : phiHi[i] - phiLo[j]) + MathF.PI, 2 * MathF.PI) - MathF.PI;
                    float dyMin, dyMax, dpMin, dpMax;
                    (dyMin, dyMax) = AbsRange(dyLo, dyHi);
                    if (dpLo <= dpHi) (dpMin, dpMax) = AbsRange(dpLo, dpHi);
                    else (dpMin, dpMax) = (0, MathF.PI); // the perturbation straddles the ±π wrap
                    float deltaMin = MathF.Sqrt(dyMin * dyMin + dpMin * dpMin), deltaMax = MathF.Sqrt(dyMax * dyMax + dpMax * dpMax);
                    float ptMin = MathF.Min(pt[i], pt[j]);
                    Set(at, Log(MathF.Max(ptMin * deltaMin, Eps)), Log(MathF.Max(ptMin * deltaMax, Eps)));
                    float lnZ = Log(MathF.Max(ptMin / MathF.Max(pt[i] + pt[j], Eps), Eps));
                    Set(at + p, lnZ, lnZ);
                    Set(at + 2 * p, Log(MathF.Max(deltaMin, Eps)), Log(MathF.Max(deltaMax, Eps)));
                    float sx = X(0, i) + X(0, j), sy = X(1, i) + X(1, j), sz = X(2, i) + X(2, j), se = X(3, i) + X(3, j);
                    float lnM2 = Log(MathF.Max(se * se - ((sx * sx + sy * sy) + sz * sz), Eps));
                    Set(at + 3 * p, lnM2, lnM2);
                }
            }
        }
        return new PairFeatureEnvelope(low, high);

        void Set(int at, float lo, float hi)
        {
            low[at] = Ulps(lo, -k);
            high[at] = Ulps(hi, k);
        }
    }

    public bool Contains(int at, float value) => value >= Low[at] && value <= High[at];

    public float Width(int at) => High[at] - Low[at];

    private static (float Min, float Max) AbsRange(float lo, float hi) =>
        lo <= 0 && hi >= 0 ? (0, MathF.Max(-lo, hi)) : (MathF.Min(MathF.Abs(lo), MathF.Abs(hi)), MathF.Max(MathF.Abs(lo), MathF.Abs(hi)));

    private static float Log(float x) => (float)Math.Log(x);

    private static float FloorMod(float a, float b)
    {
        float mod = a % b;
        if (mod != 0 && (b < 0) != (mod < 0)) mod += b;
        return mod;
    }

    private static float Ulps(float x, int k)
    {
        for (int i = 0; i < Math.Abs(k); i++) x = k > 0 ? MathF.BitIncrement(x) : MathF.BitDecrement(x);
        return x;
    }
}
