namespace Hep.Autograd.Tests;

/// <summary>
/// Every differentiable op in float32 against the same op in float64 (forward value and input
/// gradients for a fixed random output projection), on shapes with size-1 and odd dims, broadcasting
/// and non-contiguous (transposed) inputs. Tolerances are float32-level, relative to each tensor's scale.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class Float32AgreementTests(IBackend backend)
{
    public sealed record Case(string Name, Func<Variable[], Variable> F, int[][] Shapes, double Low = -1, double High = 1, bool TransposeFirst = false)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Case> Cases()
    {
        yield return new("Add broadcast", v => Fn.Add(v[0], v[1]), [[3, 1, 5], [4, 1]]);
        yield return new("Sub", v => Fn.Sub(v[0], v[1]), [[1, 7], [7]]);
        yield return new("Mul transposed", v => Fn.Mul(v[0], v[1]), [[5, 3], [5, 3]], TransposeFirst: true);
        yield return new("Div", v => Fn.Div(v[0], v[1]), [[3, 5], [1, 5]], 0.5, 2);
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal;
            double a = op switch { UnaryOp.AddScalar => 0.5, UnaryOp.MulScalar => 2, UnaryOp.PowScalar => 1.5, UnaryOp.Clamp => -0.5, _ => 0 };
            yield return new($"Unary {op}", v => Fn.Unary(op, v[0], a, 0.5), [[3, 17]], positive ? 0.5 : -2, 2, TransposeFirst: true);
        }
        yield return new("Sum axis", v => Fn.Sum(v[0], 1), [[3, 9, 2]]);
        yield return new("Mean keepdim", v => Fn.Mean(v[0], 0, keepDim: true), [[1, 5]]);
        yield return new("Max", v => Fn.Max(v[0], -1), [[4, 7]]);
        yield return new("MatMul batched broadcast", v => Fn.MatMul(v[0], v[1]), [[2, 3, 33, 17], [17, 9]]);
        yield return new("MatMul transposed", v => Fn.MatMul(v[0], v[1]), [[5, 17], [17, 3]], TransposeFirst: true);
        yield return new("Linear", v => Fn.Linear(v[0], v[1], v[2]), [[2, 3, 7], [5, 7], [5]]);
        yield return new("Concat+Slice", v => Fn.Slice(Fn.Concat([v[0], v[1]], 1), 1, 1, 3), [[2, 3], [2, 1]]);
        yield return new("Softmax", v => Fn.Softmax(v[0], 1), [[3, 5, 2]], -3, 3);
        yield return new("LogSoftmax", v => Fn.LogSoftmax(v[0]), [[4, 11]], -3, 3);
        yield return new("LayerNorm", v => Fn.LayerNorm(v[0], v[1], v[2]), [[5, 13], [13], [13]]);
        yield return new("BatchNorm (B,C,L)", v => Fn.BatchNorm(v[0], v[1], v[2], null, null, training: true), [[4, 3, 5], [3], [3]]);
        yield return new("BatchNorm (B,C)", v => Fn.BatchNorm(v[0], v[1], v[2], null, null, training: true), [[9, 3], [3], [3]]);
        yield return new("Dropout", v => Fn.Dropout(v[0], 0.3, true, 5), [[7, 9]]);
        yield return new("BCE", v => Fn.BceWithLogits(v[0], Sigmoidish(v[1])), [[6, 1], [6, 1]]);
    }

    private static Tensor Sigmoidish(Variable v) => TensorOps.Unary(UnaryOp.Sigmoid, v.Data);

    [TestCaseSource(nameof(Cases))]
    public void MatchesFloat64(Case c)
    {
        var r64 = Run(c, DType.Float64);
        var r32 = Run(c, DType.Float32);
        for (int i = 0; i < r64.Count; i++)
        {
            Assert.That(r32[i].Length, Is.EqualTo(r64[i].Length), $"{c.Name} tensor {i} size");
            if (r64[i].Length == 0) continue; // input without a gradient (e.g. a target)
            double scale = r64[i].Max(Math.Abs);
            TensorAssert.Close(r32[i], r64[i], 2e-5 * Math.Max(scale, 1e-3), 2e-4, $"{c.Name} tensor {i}", allowAllZero: true);
        }
    }

    // Output then one gradient per input, as host arrays.
    private List<double[]> Run(Case c, DType dtype)
    {
        using var scope = TensorScope.Begin();
        var vars = new Variable[c.Shapes.Length];
        for (int i = 0; i < vars.Length; i++)
        {
            var shape = c.Shapes[i];
            bool transpose = i == 0 && c.TransposeFirst;
            var stored = transpose ? [.. shape.Reverse()] : shape;
            var t = Rand.Tensor(backend, 100 + i, new Shape(stored), dtype, c.Low, c.High);
            var data = transpose ? t.Permute(Enumerable.Range(0, shape.Length).Reverse().ToArray()) : t;
            vars[i] = Variable.Parameter(data);
        }
        var result = new List<double[]>();
        using (var tape = Tape.Begin())
        {
            var y = c.F(vars);
            result.Add(y.Data.ToDoubleArray());
            var r = Rand.Doubles(7, (int)y.Data.Numel);
            using var seed = Operands.FromDoubles(backend, r, y.Shape, dtype);
            tape.Backward(y, seed);
        }
        foreach (var v in vars)
        {
            result.Add(v.Grad?.ToDoubleArray() ?? []);
            v.ZeroGrad();
        }
        return result;
    }
}
