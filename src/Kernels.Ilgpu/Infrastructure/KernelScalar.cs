namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Per-dtype helpers that generic kernels need beyond INumber arithmetic (which ILGPU compiles
/// through static abstract members): conversions from double, float atomics, and the GELU pair,
/// whose float and double formulas differ exactly as in the CPU backend. Kernels are generic over
/// (T, TS) and instantiated as (float, F32) and (double, F64).
/// </summary>
internal interface IKernelScalar<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T FromDouble(double value);

    static abstract T FromInt(int value);

    /// <summary>Widening to float64 (exact for both dtypes).</summary>
    static abstract double ToDouble(T value);

    /// <summary>target += value atomically (scatter-adds).</summary>
    static abstract void AtomicAdd(ref T target, T value);

    /// <summary>x·Φ(x).</summary>
    static abstract T Gelu(T x);

    /// <summary>d/dx x·Φ(x) = Φ(x) + x·φ(x).</summary>
    static abstract T GeluGrad(T x);
}

/// <summary>float32: GELU through Abramowitz–Stegun 7.1.26, the formula of the CPU float path.</summary>
internal readonly struct F32 : IKernelScalar<float>
{
    private const float InvSqrt2 = 0.70710678118654752440f;
    private const float InvSqrt2Pi = 0.39894228040143267794f;

    public static float FromDouble(double value) => (float)value;

    public static float FromInt(int value) => value;

    public static double ToDouble(float value) => value;

    public static void AtomicAdd(ref float target, float value) => Atomic.Add(ref target, value);

    // Φ(x) via A&S 7.1.26 on z = |x|/√2: erf(z) ≈ 1 − t(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·e^{−z²}, t = 1/(1 + p·z).
    private static float Cdf(float x)
    {
        float z = MathF.Abs(x) * InvSqrt2;
        float t = 1f / (1f + 0.3275911f * z);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        float erfAbs = 1f - poly * MathF.Exp(-z * z);
        return 0.5f * (1f + (x < 0 ? -erfAbs : erfAbs));
    }

    public static float Gelu(float x) => x * Cdf(x);

    public static float GeluGrad(float x)
    {
        float pdf = InvSqrt2Pi * MathF.Exp(-0.5f * x * x);
        return Cdf(x) + x * pdf;
    }
}

/// <summary>float64: GELU through <see cref="Erf"/> (series / continued fraction), the function of the CPU double path.</summary>
internal readonly struct F64 : IKernelScalar<double>
{
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    public static double FromDouble(double value) => value;

    public static double FromInt(int value) => value;

    public static double ToDouble(double value) => value;

    public static void AtomicAdd(ref double target, double value) => Atomic.Add(ref target, value);

    public static double Gelu(double x) => x * 0.5 * (1 + Erf.Evaluate(x * InvSqrt2));

    public static double GeluGrad(double x)
    {
        double cdf = 0.5 * (1 + Erf.Evaluate(x * InvSqrt2));
        double pdf = InvSqrt2Pi * Math.Exp(-0.5 * x * x);
        return cdf + x * pdf;
    }
}
