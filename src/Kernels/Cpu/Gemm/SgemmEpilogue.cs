using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu.Gemm;

/// <summary>
/// Host side of a float32 GEMM epilogue (<see cref="GemmEpilogue"/>): the arrays and element offsets of
/// the per-row scale / shift (M values) and the per-column bias (N values); null arrays are absent parts.
/// </summary>
internal readonly record struct SgemmEpilogue(float[]? RowScale, int RowScaleOffset, float[]? RowShift, int RowShiftOffset,
    float[]? ColumnBias, int ColumnBiasOffset, GemmActivation Activation);

/// <summary>
/// The epilogue as one micro-kernel tile sees it: pointers at the tile's first row (RowScale, RowShift:
/// MR values) and first column (ColumnBias: NR values), null when absent. Edge tiles get zero-padded
/// copies so the kernel may read a whole MR / NR span.
/// </summary>
internal unsafe struct SgemmEpilogueTile
{
    public float* RowScale;
    public float* RowShift;
    public float* ColumnBias;
    public GemmActivation Activation;
}

/// <summary>
/// Vector GELU for the epilogue: x·Φ(x) with Φ through Abramowitz–Stegun 7.1.26 on |x|/√2, the same
/// formula and operation order as <see cref="Gelu"/> (CPU unary op) and the ILGPU F32 scalar, so the fused
/// and composed paths agree within float rounding.
/// </summary>
internal static unsafe class SgemmEpilogueMath
{
    private const float InvSqrt2 = 0.70710678118654752440f;

    /// <summary>In place over a stack tile of <paramref name="rows"/> × 32 floats: act(v·scale[r] + (shift[r] + bias[j])).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Apply512(float* tile, int rows, SgemmEpilogueTile* ep)
    {
        var biasLo = ep->ColumnBias == null ? Vector512<float>.Zero : Vector512.Load(ep->ColumnBias);
        var biasHi = ep->ColumnBias == null ? Vector512<float>.Zero : Vector512.Load(ep->ColumnBias + 16);
        for (int r = 0; r < rows; r++)
        {
            float* row = tile + r * 32;
            var scale = ep->RowScale == null ? Vector512<float>.One : Vector512.Create(ep->RowScale[r]);
            var shift = ep->RowShift == null ? Vector512<float>.Zero : Vector512.Create(ep->RowShift[r]);
            var lo = Vector512.FusedMultiplyAdd(Vector512.Load(row), scale, shift + biasLo);
            var hi = Vector512.FusedMultiplyAdd(Vector512.Load(row + 16), scale, shift + biasHi);
            if (ep->Activation == GemmActivation.Relu)
            {
                lo = Vector512.Max(lo, Vector512<float>.Zero);
                hi = Vector512.Max(hi, Vector512<float>.Zero);
            }
            else if (ep->Activation == GemmActivation.Gelu)
            {
                lo = Gelu(lo);
                hi = Gelu(hi);
            }
            lo.Store(row);
            hi.Store(row + 16);
        }
    }

    /// <summary>In place over a stack tile of <paramref name="rows"/> × 16 floats (the AVX2 kernel's).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Apply256(float* tile, int rows, SgemmEpilogueTile* ep)
    {
        var biasLo = ep->ColumnBias == null ? Vector256<float>.Zero : Vector256.Load(ep->ColumnBias);
        var biasHi = ep->ColumnBias == null ? Vector256<float>.Zero : Vector256.Load(ep->ColumnBias + 8);
        for (int r = 0; r < rows; r++)
        {
            float* row = tile + r * 16;
            var scale = ep->RowScale == null ? Vector256<float>.One : Vector256.Create(ep->RowScale[r]);
            var shift = ep->RowShift == null ? Vector256<float>.Zero : Vector256.Create(ep->RowShift[r]);
            var lo = Vector256.FusedMultiplyAdd(Vector256.Load(row), scale, shift + biasLo);
            var hi = Vector256.FusedMultiplyAdd(Vector256.Load(row + 8), scale, shift + biasHi);
            if (ep->Activation == GemmActivation.Relu)
            {
                lo = Vector256.Max(lo, Vector256<float>.Zero);
                hi = Vector256.Max(hi, Vector256<float>.Zero);
            }
            else if (ep->Activation == GemmActivation.Gelu)
            {
                lo = Gelu(lo);
                hi = Gelu(hi);
            }
            lo.Store(row);
            hi.Store(row + 8);
        }
    }

    // x·Φ(x) with the unary GELU kernel's 16-lane Φ (A&S 7.1.26, float exp, refined reciprocal), so the fused
    // and in-place GELU give identical values.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x) => x * Hep.Kernels.Cpu.Gelu.Cdf512(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var one = Vector256<float>.One;
        var z = Vector256.Abs(x) * Vector256.Create(InvSqrt2);
        var t = one / (one + Vector256.Create(0.3275911f) * z);
        var poly = Vector256.Create(1.061405429f);
        poly = poly * t + Vector256.Create(-1.453152027f);
        poly = poly * t + Vector256.Create(1.421413741f);
        poly = poly * t + Vector256.Create(-0.284496736f);
        poly = poly * t + Vector256.Create(0.254829592f);
        var erfAbs = one - poly * t * Vector256.Exp(-(z * z));
        var erf = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -erfAbs, erfAbs);
        return x * (Vector256.Create(0.5f) * (one + erf));
    }
}
