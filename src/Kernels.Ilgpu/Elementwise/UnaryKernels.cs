namespace Hep.Kernels.Ilgpu;

/// <summary>Op code and scalar parameters (α, β) of a unary map, passed by value to the kernel.</summary>
internal struct UnaryArgs<T> where T : unmanaged
{
    public UnaryOp Op;
    public T Alpha;
    public T Beta;
}

/// <summary>
/// Every <see cref="UnaryOp"/>, forward and backward, over contiguous (n) tensors.
/// Thread mapping: one thread per element; the op is a uniform switch (no divergence within a launch).
/// Formulas mirror the CPU backend term by term (e.g. softplus = log(1 + e^{−|x|}) + max(x, 0),
/// GELU through <see cref="IKernelScalar{T}.Gelu"/>), so results agree to rounding. Deterministic.
/// </summary>
internal static class UnaryKernels
{
    // y = f(x; α, β)
    [KernelEntry]
    public static void Forward<T, TS>(Index1D i, ArrayView<T> x, ArrayView<T> y, UnaryArgs<T> args)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        y[i] = Apply<T, TS>(args.Op, x[i], args.Alpha, args.Beta);
    }

    // gx = g·f'(x), using x or y = f(x) as each op needs.
    [KernelEntry]
    public static void Backward<T, TS>(Index1D i, ArrayView<T> x, ArrayView<T> y, ArrayView<T> gradY, ArrayView<T> gradX, UnaryArgs<T> args)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        gradX[i] = Derivative<T, TS>(args.Op, x[i], y[i], gradY[i], args.Alpha, args.Beta);
    }

    private static T Apply<T, TS>(UnaryOp op, T x, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: return -x;
            case UnaryOp.Exp: return T.Exp(x);
            case UnaryOp.Log: return T.Log(x);
            case UnaryOp.Sqrt: return T.Sqrt(x);
            case UnaryOp.Rsqrt: return T.One / T.Sqrt(x);
            case UnaryOp.Abs: return T.Abs(x);
            case UnaryOp.Relu: return T.Max(x, T.Zero);
            case UnaryOp.Gelu: return TS.Gelu(x);
            case UnaryOp.Sigmoid: return T.One / (T.One + T.Exp(-x));
            case UnaryOp.Tanh: return T.Tanh(x);
            // log(1 + eˣ) = log(1 + e^{−|x|}) + max(x, 0); stable for large |x|.
            case UnaryOp.Softplus: return T.Log(T.One + T.Exp(-T.Abs(x))) + T.Max(x, T.Zero);
            case UnaryOp.AddScalar: return x + alpha;
            case UnaryOp.MulScalar: return x * alpha;
            case UnaryOp.PowScalar: return PowScalar<T, TS>(x, alpha);
            case UnaryOp.Clamp: return T.Min(T.Max(x, alpha), beta);
            case UnaryOp.Reciprocal: return T.One / x;
            case UnaryOp.Square: return x * x;
            default: return x;
        }
    }

    private static T Derivative<T, TS>(UnaryOp op, T x, T y, T g, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        T half = TS.FromDouble(0.5);
        switch (op)
        {
            case UnaryOp.Neg: return -g;
            case UnaryOp.Exp: return g * y;
            case UnaryOp.Log: return g / x;
            case UnaryOp.Sqrt: return g / y * half;                 // d√x = 1/(2√x)
            case UnaryOp.Rsqrt: return y * y * y * g * -half;       // d x^{−1/2} = −½ y³
            case UnaryOp.Abs: return x > T.Zero ? g : x < T.Zero ? -g : T.Zero;
            case UnaryOp.Relu: return x > T.Zero && x <= T.PositiveInfinity ? g : T.Zero;
            case UnaryOp.Gelu: return g * TS.GeluGrad(x);
            case UnaryOp.Sigmoid: return (-y + T.One) * y * g;      // σ' = y(1 − y)
            case UnaryOp.Tanh: return (T.One - y * y) * g;          // tanh' = 1 − y²
            case UnaryOp.Softplus: return T.One / (T.One + T.Exp(-x)) * g; // softplus' = σ(x)
            case UnaryOp.MulScalar: return g * alpha;
            case UnaryOp.PowScalar: return PowScalar<T, TS>(x, alpha - T.One) * alpha * g; // α x^{α−1}
            case UnaryOp.Clamp: return x >= alpha && x <= beta ? g : T.Zero;
            case UnaryOp.Reciprocal: return -(y * y * g);          // d(1/x) = −y²
            case UnaryOp.Square: return x * g * (T.One + T.One);
            default: return g;                                     // Identity, AddScalar
        }
    }

    // Integer exponents use repeated multiplication so that negative bases work (x², x³ …).
    private static T PowScalar<T, TS>(T x, T alpha)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        if (alpha == T.Zero) return T.One;
        if (alpha == T.One) return x;
        if (alpha == TS.FromDouble(2)) return x * x;
        if (alpha == TS.FromDouble(3)) return x * x * x;
        if (alpha == TS.FromDouble(0.5)) return T.Sqrt(x);
        if (alpha == -T.One) return T.One / x;
        return T.Pow(x, alpha);
    }
}
