namespace Hep.Autograd.Tests.HotKernels;

/// <summary>
/// The fused BatchNorm → ReLU (→ mean over the last axis) op: float64 gradient check (training and
/// eval), equality with the composed BatchNorm → Relu (→ Mean) forward and backward with identical
/// running-statistics updates, and a deliberately wrong backward that the gradient check must catch.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class BatchNormReluTests(IBackend backend)
{
    private Tensor R(int seed, Shape shape, DType dtype, double low = -1, double high = 1) => Rand.Tensor(backend, seed, shape, dtype, low, high);

    private static void AssertPasses(Func<Variable[], Variable> f, params Tensor[] inputs)
    {
        using var scope = TensorScope.Begin();
        var result = GradCheck.Check(f, inputs);
        Assert.That(result.Passed, Is.True, result.Report);
    }

    [TestCase(new[] { 6, 3 }, false)]
    [TestCase(new[] { 4, 3, 5 }, false)]
    [TestCase(new[] { 3, 2, 4, 3 }, true)]
    [TestCase(new[] { 2, 3, 5, 8 }, true)]
    public void GradCheckTrainingAndEval(int[] dims, bool meanLastAxis)
    {
        var shape = new Shape(dims);
        int c = dims[1];
        using var x = R(301, shape, DType.Float64, -2, 2);
        using var g = R(302, new Shape(c), DType.Float64, 0.5, 2);
        using var b = R(303, new Shape(c), DType.Float64, -0.5, 0.5);
        AssertPasses(v => Fn.BatchNormRelu(v[0], v[1], v[2], null, null, training: true, meanLastAxis: meanLastAxis), x, g, b);
        AssertPasses(v => Fn.BatchNormRelu(v[0], null, null, null, null, training: true, meanLastAxis: meanLastAxis), x);
        using var rm = R(304, new Shape(c), DType.Float64, -0.5, 0.5);
        using var rv = R(305, new Shape(c), DType.Float64, 0.5, 2);
        AssertPasses(v => Fn.BatchNormRelu(v[0], v[1], v[2], rm, rv, training: false, meanLastAxis: meanLastAxis), x, g, b);
    }

    // Shapes: EdgeConv-like (B, C, N, k) with k a multiple of the vector width and not, a conv (B, C, L)
    // row, dense (B, C); values straddle zero after the affine so both ReLU branches are exercised.
    [TestCase(DType.Float32, new[] { 4, 5, 7, 16 }, true)]
    [TestCase(DType.Float32, new[] { 4, 5, 7, 16 }, false)]
    [TestCase(DType.Float32, new[] { 3, 4, 6, 5 }, true)]
    [TestCase(DType.Float32, new[] { 5, 6, 37 }, false)]
    [TestCase(DType.Float32, new[] { 33, 19 }, false)]
    [TestCase(DType.Float64, new[] { 4, 5, 7, 16 }, true)]
    [TestCase(DType.Float64, new[] { 5, 6, 37 }, false)]
    public void MatchesComposedForwardBackwardAndRunningStatistics(DType dtype, int[] dims, bool meanLastAxis)
    {
        var shape = new Shape(dims);
        int c = dims[1];
        using var x = R(311, shape, dtype, -2, 3);
        using var gamma = R(312, new Shape(c), dtype, 0.5, 1.5);
        using var beta = R(313, new Shape(c), dtype, -0.5, 0.5);
        double tol = dtype == DType.Float64 ? 1e-12 : 2e-5;
        foreach (bool training in new[] { true, false })
        {
            using var rmF = R(314, new Shape(c), dtype, -0.5, 0.5);
            using var rvF = R(315, new Shape(c), dtype, 0.5, 2);
            using var rmC = TensorOps.Contiguous(rmF, forceCopy: true);
            using var rvC = TensorOps.Contiguous(rvF, forceCopy: true);
            var fused = Run(v => Fn.BatchNormRelu(v[0], v[1], v[2], rmF, rvF, training, meanLastAxis: meanLastAxis), [x, gamma, beta], 316);
            var composed = Run(v =>
            {
                var r = Fn.Relu(Fn.BatchNorm(v[0], v[1], v[2], rmC, rvC, training));
                return meanLastAxis ? Fn.Mean(r, -1) : r;
            }, [x, gamma, beta], 316);
            string mode = training ? "train" : "eval";
            Assert.That(fused.Shape, Is.EqualTo(composed.Shape), $"{mode} output shape");
            TensorAssert.Close(fused.Output, composed.Output, tol, 1e-5, $"{mode} output");
            Assert.That(fused.Output.Count(v => v > 0), Is.GreaterThan(fused.Output.Length / 4), $"{mode}: ReLU passes a share of the outputs");
            if (!meanLastAxis) Assert.That(fused.Output.Count(v => v == 0), Is.GreaterThan(fused.Output.Length / 10), $"{mode}: ReLU clips a share");
            string[] names = ["x", "gamma", "beta"];
            for (int i = 0; i < names.Length; i++) TensorAssert.Close(fused.Grads[i], composed.Grads[i], tol, 1e-4, $"{mode} grad {names[i]}");
            Assert.That(rmF.ToDoubleArray(), Is.EqualTo(rmC.ToDoubleArray()), $"{mode} running mean (bit-identical update)");
            Assert.That(rvF.ToDoubleArray(), Is.EqualTo(rvC.ToDoubleArray()), $"{mode} running var (bit-identical update)");
        }
    }

    [Test]
    public void RejectsBadInput()
    {
        using var x = R(321, new Shape(4, 3), DType.Float32);
        var ex = Assert.Throws<ArgumentException>(() => Fn.BatchNormRelu(Variable.Constant(x), null, null, null, null, training: true, meanLastAxis: true));
        Assert.That(ex!.Message, Does.Contain("BatchNormRelu"));
        Assert.Throws<ArgumentException>(() => Fn.BatchNormRelu(Variable.Constant(x), null, null, null, null, training: false));
    }

    // The fused backward with the training terms dropped (as if the statistics were constants): the
    // check must fail on it while the real op passes on the same data.
    private sealed class StatisticsIgnoredBackward(Tensor x, Tensor mean, Tensor invStd, Tensor scale, Tensor shift, int group) : Function
    {
        public override string Name => "WrongBatchNormRelu";

        public override Tensor?[] Backward(Tensor g, bool[] needs)
        {
            var dx = Tensor.Empty(x.Backend, x.Shape, x.DType);
            using var gc = TensorOps.Contiguous(g);
            x.Backend.Norm.BatchNormReluBackward(x, mean, invStd, scale, shift, gc, group, training: false, dx, null, null);
            return [dx];
        }
    }

    [Test]
    public void GradCheckCatchesABackwardWithoutTheStatisticsTerms()
    {
        using var scope = TensorScope.Begin();
        var x = R(331, new Shape(3, 2, 4, 3), DType.Float64, -2, 2);
        Variable Wrong(Variable[] v)
        {
            int c = v[0].Shape[1];
            var mean = Tensor.Zeros(backend, new Shape(c), DType.Float64);
            var variance = Tensor.Zeros(backend, new Shape(c), DType.Float64);
            backend.Norm.ChannelMoments(v[0].Data, mean, variance);
            var invStd = TensorOps.Unary(UnaryOp.Rsqrt, TensorOps.AddScalar(variance, 1e-5));
            var shift = TensorOps.Unary(UnaryOp.Neg, TensorOps.Mul(mean, invStd));
            var y = Tensor.Empty(backend, new Shape(3, 2, 4), DType.Float64);
            backend.Norm.ChannelAffineRelu(v[0].Data, invStd, shift, 3, y);
            var fn = new StatisticsIgnoredBackward(v[0].Data, mean, invStd, invStd, shift, 3);
            return Tape.Record(fn, y, v[0]);
        }
        var wrong = GradCheck.Check(Wrong, [x]);
        Assert.That(wrong.Passed, Is.False, "a backward without the batch-statistics terms must fail the check");
        Assert.That(GradCheck.Check(v => Fn.BatchNormRelu(v[0], null, null, null, null, training: true, meanLastAxis: true), [x]).Passed, Is.True);
    }

    private static (double[] Output, Shape Shape, double[][] Grads) Run(Func<Variable[], Variable> f, Tensor[] inputs, int gradSeed)
    {
        using var scope = TensorScope.Begin();
        var vars = inputs.Select(t => Variable.Parameter(TensorOps.Contiguous(t, forceCopy: true))).ToArray();
        try
        {
            using var tape = Tape.Begin();
            var y = f(vars);
            using var g = Rand.Tensor(y.Backend, gradSeed, y.Shape, y.DType);
            tape.Backward(y, g);
            return (y.Data.ToDoubleArray(), y.Shape, vars.Select(v => v.Grad!.ToDoubleArray()).ToArray());
        }
        finally
        {
            foreach (var v in vars) v.ZeroGrad();
        }
    }
}
