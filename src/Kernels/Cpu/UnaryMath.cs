using System.Numerics;
using System.Numerics.Tensors;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Forward and backward of every <see cref="UnaryOp"/> over one contiguous chunk. Built from
/// TensorPrimitives calls (vectorised, AVX-512 where available) and Vector&lt;T&gt; selects for the
/// piecewise derivatives. <see cref="UnaryKernels{T}"/> hands multi-pass formulas (and every backward) one
/// L1 block at a time, so their intermediate passes stay in cache; y may alias x only for single-pass ops
/// (the driver computes multi-pass ones into scratch).
/// </summary>
internal static class UnaryMath<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Forward(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, T alpha, T beta)
    {
        switch (op)
        {
            case UnaryOp.Identity: x.CopyTo(y); break;
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, T.Zero, y); break;
            case UnaryOp.Gelu: Gelu.Forward(x, y); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Softplus: Softplus(x, y); break;
            case UnaryOp.AddScalar: TensorPrimitives.Add(x, alpha, y); break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(x, alpha, y); break;
            case UnaryOp.PowScalar: PowScalar(x, alpha, y); break;
            case UnaryOp.Clamp:
                TensorPrimitives.Max(x, alpha, y);
                TensorPrimitives.Min(y, beta, y);
                break;
            case UnaryOp.Reciprocal: TensorPrimitives.Reciprocal(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            default: throw new BackendNotSupportedException(op.ToString(), "cpu", "unknown unary op");
        }
    }

    /// <summary>gx = g·f'(x), using x or y = f(x) as convenient.</summary>
    public static void Backward(UnaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> gx, T alpha, T beta)
    {
        switch (op)
        {
            case UnaryOp.Identity:
            case UnaryOp.AddScalar: g.CopyTo(gx); break;
            case UnaryOp.Neg: TensorPrimitives.Negate(g, gx); break;
            case UnaryOp.Exp: TensorPrimitives.Multiply(g, y, gx); break;
            case UnaryOp.Log: TensorPrimitives.Divide(g, x, gx); break;
            case UnaryOp.Sqrt:
                // d√x = 1/(2√x)
                TensorPrimitives.Divide(g, y, gx);
                TensorPrimitives.Multiply(gx, T.CreateTruncating(0.5), gx);
                break;
            case UnaryOp.Rsqrt:
                // d x^{-1/2} = −½ y³
                TensorPrimitives.Multiply(y, y, gx);
                TensorPrimitives.Multiply(gx, y, gx);
                TensorPrimitives.Multiply(gx, g, gx);
                TensorPrimitives.Multiply(gx, T.CreateTruncating(-0.5), gx);
                break;
            case UnaryOp.Abs: SignTimes(x, g, gx); break;
            case UnaryOp.Relu: Window(x, g, gx, T.Zero, T.PositiveInfinity, lowInclusive: false); break;
            case UnaryOp.Gelu: Gelu.Backward(x, g, gx); break;
            case UnaryOp.Sigmoid:
                // σ' = y(1 − y)
                TensorPrimitives.Negate(y, gx);
                TensorPrimitives.Add(gx, T.One, gx);
                TensorPrimitives.Multiply(gx, y, gx);
                TensorPrimitives.Multiply(gx, g, gx);
                break;
            case UnaryOp.Tanh:
                // tanh' = 1 − y²
                TensorPrimitives.Multiply(y, y, gx);
                TensorPrimitives.Subtract(T.One, gx, gx);
                TensorPrimitives.Multiply(gx, g, gx);
                break;
            case UnaryOp.Softplus:
                // softplus' = σ(x)
                TensorPrimitives.Sigmoid(x, gx);
                TensorPrimitives.Multiply(gx, g, gx);
                break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(g, alpha, gx); break;
            case UnaryOp.PowScalar:
                // d xᵅ = α x^{α−1}
                PowScalar(x, alpha - T.One, gx);
                TensorPrimitives.Multiply(gx, alpha, gx);
                TensorPrimitives.Multiply(gx, g, gx);
                break;
            case UnaryOp.Clamp: Window(x, g, gx, alpha, beta, lowInclusive: true); break;
            case UnaryOp.Reciprocal:
                // d(1/x) = −y²
                TensorPrimitives.Multiply(y, y, gx);
                TensorPrimitives.Multiply(gx, g, gx);
                TensorPrimitives.Negate(gx, gx);
                break;
            case UnaryOp.Square:
                TensorPrimitives.Multiply(x, g, gx);
                TensorPrimitives.Multiply(gx, T.CreateTruncating(2), gx);
                break;
            default: throw new BackendNotSupportedException(op + "Backward", "cpu", "unknown unary op");
        }
    }

    // log(1 + eˣ) = max(x, 0) + log(1 + e^{−|x|}); stable for large |x|.
    private static void Softplus(ReadOnlySpan<T> x, Span<T> y)
    {
        TensorPrimitives.Abs(x, y);
        TensorPrimitives.Negate(y, y);
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Add(y, T.One, y);
        TensorPrimitives.Log(y, y);
        int w = Vector<T>.Count, i = 0;
        for (; i <= x.Length - w; i += w)
            (new Vector<T>(y[i..]) + Vector.Max(new Vector<T>(x[i..]), Vector<T>.Zero)).CopyTo(y[i..]);
        for (; i < x.Length; i++) y[i] += T.Max(x[i], T.Zero);
    }

    // Integer exponents use repeated multiplication so that negative bases work (x², x³ …).
    private static void PowScalar(ReadOnlySpan<T> x, T alpha, Span<T> y)
    {
        if (alpha == T.Zero) y.Fill(T.One);
        else if (alpha == T.One) x.CopyTo(y);
        else if (alpha == T.CreateTruncating(2)) TensorPrimitives.Multiply(x, x, y);
        else if (alpha == T.CreateTruncating(3))
        {
            TensorPrimitives.Multiply(x, x, y);
            TensorPrimitives.Multiply(y, x, y);
        }
        else if (alpha == T.CreateTruncating(0.5)) TensorPrimitives.Sqrt(x, y);
        else if (alpha == T.NegativeOne) TensorPrimitives.Reciprocal(x, y);
        else TensorPrimitives.Pow(x, alpha, y);
    }

    // gx = g where low (≤ or <) x ≤ high, else 0.
    private static void Window(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> gx, T low, T high, bool lowInclusive)
    {
        int w = Vector<T>.Count, i = 0;
        var lo = new Vector<T>(low);
        var hi = new Vector<T>(high);
        for (; i <= x.Length - w; i += w)
        {
            var v = new Vector<T>(x[i..]);
            var above = lowInclusive ? Vector.GreaterThanOrEqual(v, lo) : Vector.GreaterThan(v, lo);
            var inside = Vector.BitwiseAnd(above, Vector.LessThanOrEqual(v, hi));
            Vector.ConditionalSelect(inside, new Vector<T>(g[i..]), Vector<T>.Zero).CopyTo(gx[i..]);
        }
        for (; i < x.Length; i++)
        {
            bool ok = (lowInclusive ? x[i] >= low : x[i] > low) && x[i] <= high;
            gx[i] = ok ? g[i] : T.Zero;
        }
    }

    // gx = g·sign(x), sign(0) = 0.
    private static void SignTimes(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> gx)
    {
        int w = Vector<T>.Count, i = 0;
        for (; i <= x.Length - w; i += w)
        {
            var v = new Vector<T>(x[i..]);
            var gv = new Vector<T>(g[i..]);
            var r = Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<T>.Zero), gv,
                Vector.ConditionalSelect(Vector.LessThan(v, Vector<T>.Zero), -gv, Vector<T>.Zero));
            r.CopyTo(gx[i..]);
        }
        for (; i < x.Length; i++) gx[i] = x[i] > T.Zero ? g[i] : x[i] < T.Zero ? -g[i] : T.Zero;
    }
}
