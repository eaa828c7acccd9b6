using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Engine.Ops;
using Hep.Kernels.Cpu.Attention;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Exact (erf-based) GELU and its derivative over spans.
///   y  = x·Φ(x),  Φ(x) = ½(1 + erf(x/√2))
///   y' = Φ(x) + x·φ(x),  φ(x) = e^{−x²/2}/√(2π)
/// float: vectorised over Vector&lt;float&gt; with Abramowitz–Stegun 7.1.26 for erf (|error| ≤ 1.5e−7,
/// below float32 resolution of Φ; the ILGPU kernel uses the same formula). double: the accurate
/// scalar <see cref="Erf"/> so that gradient checks see a smooth, exact function.
/// Where 512-bit vectors are accelerated the float paths run 16 lanes with float arithmetic only:
/// e^{−z²} through <see cref="FastExp"/> (≤ 2 ulp; the runtime's vector exp evaluates in double) and
/// 1/(1 + p·z) as a 14-bit reciprocal estimate refined by one Newton step (relative error ~1e−8), so
/// Φ keeps the formula's 1.5e−7 accuracy. Spans shorter than a vector go through one padded vector, so
/// every element of every span gets the same formula (results do not depend on how a tensor is cut).
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
        if (Vector512.IsHardwareAccelerated)
        {
            ForwardFloat512(x, y);
            return;
        }
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
        if (Vector512.IsHardwareAccelerated)
        {
            BackwardFloat512(x, g, gx);
            return;
        }
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

    // y = x·Φ(x) on 16 lanes; a ragged tail is finished with the last whole vector (overlapping, loaded
    // before any store, so y may alias x); spans under 16 elements through one zero-padded vector.
    private static unsafe void ForwardFloat512(ReadOnlySpan<float> x, Span<float> y)
    {
        const int W = 16;
        int n = x.Length;
        if (n < W)
        {
            var pad = stackalloc float[W];
            Vector512<float>.Zero.Store(pad);
            x.CopyTo(new Span<float>(pad, W));
            var v = Vector512.Load(pad);
            (v * Cdf512(v)).Store(pad);
            new ReadOnlySpan<float>(pad, n).CopyTo(y);
            return;
        }
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var last = Vector512.Load(px + n - W);
            int i = 0;
            for (; i <= n - 2 * W; i += 2 * W)
            {
                var a = Vector512.Load(px + i);
                var b = Vector512.Load(px + i + W);
                (a * Cdf512(a)).Store(py + i);
                (b * Cdf512(b)).Store(py + i + W);
            }
            for (; i <= n - W; i += W)
            {
                var a = Vector512.Load(px + i);
                (a * Cdf512(a)).Store(py + i);
            }
            if (i < n) (last * Cdf512(last)).Store(py + n - W);
        }
    }

    // gx = g·(Φ(x) + x·φ(x)) on 16 lanes (tails as in the forward).
    private static unsafe void BackwardFloat512(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> gx)
    {
        const int W = 16;
        int n = x.Length;
        if (n < W)
        {
            var px = stackalloc float[W];
            var pg = stackalloc float[W];
            Vector512<float>.Zero.Store(px);
            Vector512<float>.Zero.Store(pg);
            x.CopyTo(new Span<float>(px, W));
            g.CopyTo(new Span<float>(pg, W));
            DerivativeTimes512(Vector512.Load(px), Vector512.Load(pg)).Store(px);
            new ReadOnlySpan<float>(px, n).CopyTo(gx);
            return;
        }
        fixed (float* px = x)
        fixed (float* pg = g)
        fixed (float* pd = gx)
        {
            var lastX = Vector512.Load(px + n - W);
            var lastG = Vector512.Load(pg + n - W);
            int i = 0;
            for (; i <= n - W; i += W) DerivativeTimes512(Vector512.Load(px + i), Vector512.Load(pg + i)).Store(pd + i);
            if (i < n) DerivativeTimes512(lastX, lastG).Store(pd + n - W);
        }
    }

    // Φ(x) by the same A&S 7.1.26 formula as Cdf: with q = ½·t·poly(t)·e^{−z²}, Φ = q for x < 0, else 1 − q.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Cdf512(Vector512<float> x)
    {
        var z = Vector512.Abs(x) * Vector512.Create((float)InvSqrt2);
        var t = Reciprocal(Vector512.FusedMultiplyAdd(Vector512.Create(0.3275911f), z, Vector512<float>.One));
        var poly = Vector512.FusedMultiplyAdd(Vector512.Create(1.061405429f), t, Vector512.Create(-1.453152027f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(1.421413741f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-0.284496736f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(0.254829592f));
        var q = poly * t * Vector512.Create(0.5f) * FastExp.NonPositive(-(z * z));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), q, Vector512<float>.One - q);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> DerivativeTimes512(Vector512<float> v, Vector512<float> g)
    {
        var pdf = Vector512.Create((float)InvSqrt2Pi) * FastExp.NonPositive(Vector512.Create(-0.5f) * v * v);
        return g * Vector512.FusedMultiplyAdd(v, pdf, Cdf512(v));
    }

    // 1/a for a = 1 + p·z ≥ 1: with AVX-512 a 14-bit estimate and one Newton step t·(2 − a·t), a first
    // capped at 1 + p·13 (beyond z = 13, e^{−z²} is 0 and t no longer matters; the cap keeps z = ∞ from
    // turning the Newton step into ∞·0; NaN passes through the min), else a division.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reciprocal(Vector512<float> a)
    {
        if (!Avx512F.IsSupported) return Vector512<float>.One / a;
        var capped = Avx512F.Min(Vector512.Create(1f + 0.3275911f * 13f), a);
        var t = Avx512F.Reciprocal14(capped);
        return t * Avx512F.FusedMultiplyAddNegated(capped, t, Vector512.Create(2f));
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    private static Span<TTo> CastMut<TFrom, TTo>(Span<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);
}
