namespace Hep.Autograd.Tests;

/// <summary>Every differentiable op through the float64 finite-difference gradient check.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class GradCheckTests(IBackend backend)
{
    private Tensor R(int seed, params int[] shape) => Rand.Tensor(backend, seed, new Shape(shape), DType.Float64);

    private Tensor Positive(int seed, params int[] shape) => Rand.Tensor(backend, seed, new Shape(shape), DType.Float64, 0.5, 2);

    private static void AssertPasses(Func<Variable[], Variable> f, params Tensor[] inputs) => AssertPasses(f, inputs, null);

    private static void AssertPasses(Func<Variable[], Variable> f, Tensor[] inputs, bool[]? needs)
    {
        using var scope = TensorScope.Begin();
        var result = GradCheck.Check(f, inputs, needs);
        Assert.That(result.Passed, Is.True, result.Report);
    }

    [Test]
    public void AddSubMulDivWithBroadcasting()
    {
        using var a = R(1, 3, 1, 4);
        using var b = Positive(2, 5, 1);
        AssertPasses(v => Fn.Add(v[0], v[1]), a, b);
        AssertPasses(v => Fn.Sub(v[0], v[1]), a, b);
        AssertPasses(v => Fn.Mul(v[0], v[1]), a, b);
        AssertPasses(v => Fn.Div(v[0], v[1]), a, b);
    }

    [Test]
    public void SameVariableUsedTwiceAccumulates()
    {
        using var a = R(3, 2, 3);
        AssertPasses(v => Fn.Mul(Fn.Add(v[0], v[0]), v[0]), a);
    }

    public static IEnumerable<UnaryOp> SmoothUnaryOps =>
        Enum.GetValues<UnaryOp>().Where(op => op is not (UnaryOp.Relu or UnaryOp.Abs or UnaryOp.Clamp));

    [Test]
    public void UnaryOps([ValueSource(nameof(SmoothUnaryOps))] UnaryOp op)
    {
        bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal;
        using var x = positive ? Positive(4, 3, 5) : R(4, 3, 5);
        double alpha = op switch { UnaryOp.AddScalar => 0.3, UnaryOp.MulScalar => -1.7, UnaryOp.PowScalar => 2.5, _ => 0 };
        AssertPasses(v => Fn.Unary(op, v[0], alpha), x);
    }

    [Test]
    public void PiecewiseUnaryOpsAwayFromKinks()
    {
        // Values in ±[0.1, 1]: relu/abs are smooth there; clamp bounds at ±0.5 are avoided.
        var d = Rand.Doubles(5, 20, 0.1, 1).Select((v, i) => i % 2 == 0 ? v : -v).Select(v => Math.Abs(Math.Abs(v) - 0.5) < 0.02 ? v * 1.1 : v).ToArray();
        using var x = Tensor.FromArray<double>(backend, d, new Shape(4, 5));
        AssertPasses(v => Fn.Relu(v[0]), x);
        AssertPasses(v => Fn.Unary(UnaryOp.Abs, v[0]), x);
        AssertPasses(v => Fn.Unary(UnaryOp.Clamp, v[0], -0.5, 0.5), x);
    }

    [Test]
    public void Reductions()
    {
        using var x = R(6, 3, 4, 5);
        AssertPasses(v => Fn.Sum(v[0], 1), x);
        AssertPasses(v => Fn.Mean(v[0], -1, keepDim: true), x);
        AssertPasses(v => Fn.Max(v[0], 0), x);
        AssertPasses(v => Fn.SumAll(v[0]), x);
        AssertPasses(v => Fn.MeanAll(v[0]), x);
    }

    [Test]
    public void MatMulBatchedBroadcastAndTransposed()
    {
        using var a = R(7, 2, 3, 4, 5);
        using var b = R(8, 3, 5, 2);
        AssertPasses(v => Fn.MatMul(v[0], v[1]), a, b);
        using var c = R(9, 6, 4);
        AssertPasses(v => Fn.MatMul(Fn.Transpose(v[0], 0, 1), v[0]), c);
    }

    [Test]
    public void LinearWithAndWithoutBias()
    {
        using var x = R(10, 2, 3, 4);
        using var w = R(11, 5, 4);
        using var b = R(12, 5);
        AssertPasses(v => Fn.Linear(v[0], v[1], v[2]), x, w, b);
        AssertPasses(v => Fn.Linear(v[0], v[1]), x, w);
    }

    [Test]
    public void ShapeOps()
    {
        using var x = R(13, 2, 3, 4);
        using var y = R(14, 2, 2, 4);
        AssertPasses(v => Fn.Reshape(Fn.Permute(v[0], 2, 0, 1), 4, 6), x);
        AssertPasses(v => Fn.Slice(v[0], 1, 1, 2), x);
        AssertPasses(v => Fn.Concat([v[0], v[1]], 1), x, y);
        AssertPasses(v => Fn.Flatten(Fn.Contiguous(Fn.Transpose(v[0], 1, 2))), x);
    }

    [Test]
    public void IndexSelectAndGatherWithDuplicates()
    {
        using var x = R(15, 2, 5, 3);
        using var idx = Tensor.FromArray<int>(backend, [4, 1, 4, 0], new Shape(4));
        AssertPasses(v => Fn.IndexSelect(v[0], 1, v[1].Data), [x, idx], [true, false]);
        using var gidx = Tensor.FromArray<int>(backend, Rand.Ints(16, 2 * 7 * 3, 0, 5), new Shape(2, 7, 3));
        AssertPasses(v => Fn.Gather(v[0], 1, v[1].Data), [x, gidx], [true, false]);
    }

    [Test]
    public void WhereAndMaskedFill()
    {
        using var a = R(17, 3, 4);
        using var b = R(18, 1, 4);
        using var cond = Tensor.FromArray<double>(backend, [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0], new Shape(3, 4));
        AssertPasses(v => Fn.Where(v[2].Data, v[0], v[1]), [a, b, cond], [true, true, false]);
        using var mask = Tensor.FromArray<double>(backend, [0, 1, 0, 0], new Shape(4));
        AssertPasses(v => Fn.MaskedFill(v[0], v[1].Data, -3), [a, mask], [true, false]);
    }

    [Test]
    public void SoftmaxAndLogSoftmaxOnEachAxis([Values(0, 1, -1)] int axis)
    {
        using var x = R(19, 3, 4, 5);
        AssertPasses(v => Fn.Softmax(v[0], axis), x);
        AssertPasses(v => Fn.LogSoftmax(v[0], axis), x);
    }

    [Test]
    public void LayerNormAffineAndPlain()
    {
        using var x = R(20, 3, 2, 7);
        using var g = Positive(21, 7);
        using var b = R(22, 7);
        AssertPasses(v => Fn.LayerNorm(v[0], v[1], v[2]), x, g, b);
        AssertPasses(v => Fn.LayerNorm(v[0], null, null), x);
    }

    [Test]
    public void BatchNormTrainingAndEval([Values(1, 5)] int length)
    {
        int[] shape = length == 1 ? [6, 3] : [4, 3, length];
        using var x = R(23, shape);
        using var g = Positive(24, 3);
        using var b = R(25, 3);
        AssertPasses(v => Fn.BatchNorm(v[0], v[1], v[2], null, null, training: true), x, g, b);
        using var rm = R(26, 3);
        using var rv = Positive(27, 3);
        AssertPasses(v => Fn.BatchNorm(v[0], v[1], v[2], rm, rv, training: false), x, g, b);
    }

    [Test]
    public void DropoutUsesItsMaskInBackward()
    {
        using var x = R(28, 10, 10);
        AssertPasses(v => Fn.Dropout(v[0], 0.4, training: true, seed: 99), x);
    }

    [Test]
    public void CrossEntropyWithLabelSmoothingAndSoftTargets()
    {
        using var logits = R(29, 5, 4);
        using var labels = Tensor.FromArray<int>(backend, [0, 3, 1, 1, 2], new Shape(5));
        AssertPasses(v => Fn.CrossEntropy(v[0], v[1].Data, labelSmoothing: 0.1), [logits, labels], [true, false]);
        AssertPasses(v => Fn.CrossEntropy(v[0], v[1].Data), [logits, labels], [true, false]);
        using var soft = Rand.Tensor(backend, 30, new Shape(5, 4), DType.Float64, 0, 1);
        AssertPasses(v => Fn.CrossEntropySoft(v[0], v[1].Data), [logits, soft], [true, false]);
    }

    [Test]
    public void BinaryCrossEntropyWithLogits()
    {
        using var logits = R(31, 6, 2);
        using var target = Rand.Tensor(backend, 32, new Shape(6, 2), DType.Float64, 0, 1);
        AssertPasses(v => Fn.BceWithLogits(v[0], v[1].Data), [logits, target], [true, false]);
    }

    [Test]
    public void SizeOneAndOddShapes()
    {
        using var a = R(33, 1, 1);
        using var b = R(34, 1, 7);
        AssertPasses(v => Fn.Mul(Fn.MatMul(v[0], v[1]), v[1]), a, b);
        using var c = R(35, 1);
        AssertPasses(v => Fn.Softmax(v[0]), c);
    }
}
