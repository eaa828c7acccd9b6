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
internal static class SgemmEpilogueMath
{
    private const float InvSqrt2 = 0.70710678118654752440f;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var one = Vector512<float>.One;
        var z = Vector512.Abs(x) * Vector512.Create(InvSqrt2);
        var t = one / (one + Vector512.Create(0.3275911f) * z);
        var poly = Vector512.Create(1.061405429f);
        poly = poly * t + Vector512.Create(-1.453152027f);
        poly = poly * t + Vector512.Create(1.421413741f);
        poly = poly * t + Vector512.Create(-0.284496736f);
        poly = poly * t + Vector512.Create(0.254829592f);
        var erfAbs = one - poly * t * Vector512.Exp(-(z * z));
        var erf = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -erfAbs, erfAbs);
        return x * (Vector512.Create(0.5f) * (one + erf));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
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
