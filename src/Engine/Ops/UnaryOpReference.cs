namespace Hep.Engine.Ops;

/// <summary>
/// The definition of every <see cref="UnaryOp"/> as a plain float64 scalar function, independent of any
/// backend's kernels: the reference that kernel tests and the ILGPU self-check compare against.
/// </summary>
public static class UnaryOpReference
{
    // erf(x) = 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(1·3·…·(2n+1)): all terms positive, no cancellation.
    public static double Erf(double x)
    {
        double term = x, sum = x;
        for (int n = 1; n < 400 && Math.Abs(term) > 1e-18 * Math.Abs(sum); n++)
        {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    public static double Apply(UnaryOp op, double x, double alpha, double beta) => op switch
    {
        UnaryOp.Identity => x,
        UnaryOp.Neg => -x,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Rsqrt => 1 / Math.Sqrt(x),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Relu => Math.Max(x, 0),
        UnaryOp.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Softplus => Math.Log(1 + Math.Exp(x)),
        UnaryOp.AddScalar => x + alpha,
        UnaryOp.MulScalar => alpha * x,
        UnaryOp.PowScalar => Math.Pow(x, alpha),
        UnaryOp.Clamp => Math.Min(Math.Max(x, alpha), beta),
        UnaryOp.Reciprocal => 1 / x,
        UnaryOp.Square => x * x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
