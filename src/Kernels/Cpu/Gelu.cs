using System.Numerics;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Exact (erf-based) GELU and its derivative over spans.
///   y  = x·Φ(x),  Φ(x) = ½(1 + erf(x/√2))
///   y' = Φ(x) + x·φ(x),  φ(x) = e^{−x²/2}/√(2π)
/// float: vectorised over Vector&lt;float&gt; with Abramowitz–Stegun 7.1.26 for erf (|error| ≤ 1.5e−7,
/// below float32 resolution of Φ; the ILGPU kernel uses the same formula). double: the accurate
/// scalar <see cref="Erf"/> so that gradient checks see a smooth, exact function.
/// </summary>
internal static class Gelu
{
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            ForwardFloat(Cast<T, float>(x), CastMut<T, float>(y));
            return;
        }
        for (int i = 0; i < x.Length; i++)
        {
            double v = double.CreateTruncating(x[i]);
            y[i] = T.CreateTruncating(v * 0.5 * (1 + Erf.Evaluate(v * InvSqrt2)));
        }
    }

    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> gx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            BackwardFloat(Cast<T, float>(x), Cast<T, float>(g), CastMut<T, float>(gx));
            return;
        }
        for (int i = 0; i < x.Length; i++)
        {
            double v = double.CreateTruncating(x[i]);
            double cdf = 0.5 * (1 + Erf.Evaluate(v * InvSqrt2));
            double pdf = InvSqrt2Pi * Math.Exp(-0.5 * v * v);
            gx[i] = T.CreateTruncating(double.CreateTruncating(g[i]) * (cdf + v * pdf));
        }
    }

    // Φ(x) via A&S 7.1.26 on z = |x|/√2: erf(z) ≈ 1 − t(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·e^{−z²}, t = 1/(1 + p·z).
    private static Vector<float> Cdf(Vector<float> x)
    {
        var z = Vector.Abs(x) * new Vector<float>((float)InvSqrt2);
        var t = Vector<float>.One / (Vector<float>.One + new Vector<float>(0.3275911f) * z);
        var poly = new Vector<float>(1.061405429f);
        poly = poly * t + new Vector<float>(-1.453152027f);
        poly = poly * t + new Vector<float>(1.421413741f);
        poly = poly * t + new Vector<float>(-0.284496736f);
        poly = poly * t + new Vector<float>(0.254829592f);
        var erfAbs = Vector<float>.One - poly * t * Vector.Exp(-(z * z));
        var erf = Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -erfAbs, erfAbs);
        return new Vector<float>(0.5f) * (Vector<float>.One + erf);
    }

    private static float CdfScalar(float x)
    {
        float z = MathF.Abs(x) * (float)InvSqrt2;
        float t = 1f / (1f + 0.3275911f * z);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        float erfAbs = 1f - poly * MathF.Exp(-z * z);
        return 0.5f * (1f + (x < 0 ? -erfAbs : erfAbs));
    }

    // A ragged tail is finished with the last whole vector (overlapping, loaded before any store, so y may
    // alias x): every element of a span of at least one vector gets the vector formula, whatever the span's
    // length, so results do not depend on how a tensor is cut into pieces.
    private static void ForwardFloat(ReadOnlySpan<float> x, Span<float> y)
    {
        int w = Vector<float>.Count, n = x.Length, i = 0;
        if (n < w)
        {
            for (; i < n; i++) y[i] = x[i] * CdfScalar(x[i]);
            return;
        }
        var last = new Vector<float>(x[(n - w)..]);
        for (; i <= n - w; i += w)
        {
            var v = new Vector<float>(x[i..]);
            (v * Cdf(v)).CopyTo(y[i..]);
        }
        if (i < n) (last * Cdf(last)).CopyTo(y[(n - w)..]);
    }

    private static void BackwardFloat(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx)
    {
        int w = Vector<float>.Count, n = x.Length, i = 0;
        if (n < w)
        {
            for (; i < n; i++)
            {
                float pdf = (float)InvSqrt2Pi * MathF.Exp(-0.5f * x[i] * x[i]);
                gx[i] = g[i] * (CdfScalar(x[i]) + x[i] * pdf);
            }
            return;
        }
        var lastX = new Vector<float>(x[(n - w)..]);
        var lastG = new Vector<float>(g[(n - w)..]);
        for (; i <= n - w; i += w) DerivativeTimes(new Vector<float>(x[i..]), new Vector<float>(g[i..])).CopyTo(gx[i..]);
        if (i < n) DerivativeTimes(lastX, lastG).CopyTo(gx[(n - w)..]);
    }

    // g·(Φ(x) + x·φ(x)).
    private static Vector<float> DerivativeTimes(Vector<float> v, Vector<float> g)
    {
        var pdf = new Vector<float>((float)InvSqrt2Pi) * Vector.Exp(new Vector<float>(-0.5f) * v * v);
        return g * (Cdf(v) + v * pdf);
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    private static Span<TTo> CastMut<TFrom, TTo>(Span<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);
}

/// <summary>
/// Double-precision error function: Maclaurin series for |x| &lt; 2.5 (terms until below 1e−17
/// relative) and the Lentz continued fraction of erfc for larger |x|. Accurate to ~1e−15.
/// </summary>
internal static class Erf
{
    public static double Evaluate(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1))
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 100; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        double erfc = ErfcContinuedFraction(ax);
        return x > 0 ? 1 - erfc : erfc - 1;
    }

    // erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + 2/(x + …))))), modified Lentz.
    private static double ErfcContinuedFraction(double x)
    {
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n < 300; n++)
        {
            double an = n * 0.5;
            d = x + an * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }
}
