namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Plain float64 host references for <see cref="SelfCheck"/>: scalar loops written from the op
/// definitions, independent of both backends' kernels.
/// </summary>
internal static class HostReference
{
    public static double Erf(double x) => UnaryOpReference.Erf(x);

    public static double Unary(UnaryOp op, double x, double a, double b) => UnaryOpReference.Apply(op, x, a, b);

    /// <summary>f'(x) (away from kinks).</summary>
    public static double Derivative(UnaryOp op, double x, double a, double b) => op switch
    {
        UnaryOp.Identity or UnaryOp.AddScalar => 1,
        UnaryOp.Neg => -1,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => 1 / x,
        UnaryOp.Sqrt => 0.5 / Math.Sqrt(x),
        UnaryOp.Rsqrt => -0.5 * Math.Pow(x, -1.5),
        UnaryOp.Abs => Math.Sign(x),
        UnaryOp.Relu => x > 0 ? 1 : 0,
        UnaryOp.Gelu => 0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI),
        UnaryOp.Sigmoid => Math.Exp(-x) / ((1 + Math.Exp(-x)) * (1 + Math.Exp(-x))),
        UnaryOp.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        UnaryOp.Softplus => 1 / (1 + Math.Exp(-x)),
        UnaryOp.MulScalar => a,
        UnaryOp.PowScalar => a * Math.Pow(x, a - 1),
        UnaryOp.Clamp => x >= a && x <= b ? 1 : 0,
        UnaryOp.Reciprocal => -1 / (x * x),
        UnaryOp.Square => 2 * x,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    public static double Binary(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => Math.Max(a, b),
        BinaryOp.Min => Math.Min(a, b),
        BinaryOp.Pow => Math.Pow(a, b),
        BinaryOp.Greater => a > b ? 1 : 0,
        BinaryOp.Less => a < b ? 1 : 0,
        _ => a == b ? 1 : 0,
    };

    /// <summary>(outer, n, inner) → (outer, inner) reduction in float64.</summary>
    public static double[] Reduce(ReduceOp op, double[] x, int outer, int n, int inner)
    {
        var y = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = op switch { ReduceOp.Max => double.NegativeInfinity, ReduceOp.Min => double.PositiveInfinity, _ => 0 };
                for (int k = 0; k < n; k++)
                {
                    double v = x[(o * n + k) * inner + i];
                    acc = op switch { ReduceOp.Max => Math.Max(acc, v), ReduceOp.Min => Math.Min(acc, v), _ => acc + v };
                }
                y[o * inner + i] = op == ReduceOp.Mean ? acc / n : acc;
            }
        return y;
    }

    public static int[] ArgMax(double[] x, int outer, int n, int inner)
    {
        var y = new int[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                for (int k = 1; k < n; k++)
                    if (x[(o * n + k) * inner + i] > x[(o * n + best) * inner + i]) best = k;
                y[o * inner + i] = best;
            }
        return y;
    }

    /// <summary>c[b] = a[b]·bm[b] for row-major a (batch, m, k), bm (batch or 1, k, n).</summary>
    public static double[] MatMul(double[] a, double[] b, int batch, int m, int k, int n, bool bShared)
    {
        var c = new double[batch * m * n];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[(bi * m + i) * k + p] * b[((bShared ? 0 : bi) * k + p) * n + j];
                    c[(bi * m + i) * n + j] = s;
                }
        return c;
    }

    /// <summary>Row softmax (log: log-softmax); all −∞ rows give 0 (log: −∞).</summary>
    public static double[] Softmax(double[] x, int rows, int n, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int k = 0; k < n; k++) max = Math.Max(max, x[r * n + k]);
            if (double.IsNegativeInfinity(max))
            {
                for (int k = 0; k < n; k++) y[r * n + k] = log ? double.NegativeInfinity : 0;
                continue;
            }
            double z = 0;
            for (int k = 0; k < n; k++) z += Math.Exp(x[r * n + k] - max);
            for (int k = 0; k < n; k++) y[r * n + k] = log ? x[r * n + k] - max - Math.Log(z) : Math.Exp(x[r * n + k] - max) / z;
        }
        return y;
    }

    public static double[] SoftmaxBackward(double[] y, double[] g, int rows, int n, bool log)
    {
        var gx = new double[y.Length];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < n; k++) s += log ? g[r * n + k] : g[r * n + k] * y[r * n + k];
            for (int k = 0; k < n; k++)
            {
                int i = r * n + k;
                gx[i] = log ? g[i] - Math.Exp(y[i]) * s : y[i] * (g[i] - s);
            }
        }
        return gx;
    }
}
