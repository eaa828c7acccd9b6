namespace Hep.Autograd.Tests.HotKernels;

/// <summary>
/// Each fused op against the same computation composed from already-tested primitives, forward and
/// backward: attention vs MatMul → scale → add bias and mask → Softmax → MatMul; EdgeConvProject vs
/// Linear over EdgeFeatures; MaskedSoftmax vs Softmax(x + mask).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class FusedVsComposedTests(IBackend backend)
{
    /// <summary>Runs f on fresh parameters made from <paramref name="inputs"/>, back-propagates gradOut, returns output and input gradients.</summary>
    private static (double[] Output, double[][] Grads) Run(Func<Variable[], Variable> f, Tensor[] inputs, int gradSeed)
    {
        using var scope = TensorScope.Begin();
        var vars = inputs.Select(t => Variable.Parameter(TensorOps.Contiguous(t, forceCopy: true))).ToArray();
        try
        {
            using var tape = Tape.Begin();
            var y = f(vars);
            using var g = Rand.Tensor(y.Backend, gradSeed, y.Shape, y.DType);
            tape.Backward(y, g);
            return (y.Data.ToDoubleArray(), vars.Select(v => v.Grad!.ToDoubleArray()).ToArray());
        }
        finally
        {
            foreach (var v in vars) v.ZeroGrad();
        }
    }

    private static void AssertSame((double[] Output, double[][] Grads) fused, (double[] Output, double[][] Grads) composed,
        double atol, double rtol, string[] names)
    {
        TensorAssert.Close(fused.Output, composed.Output, atol, rtol, "output");
        for (int i = 0; i < names.Length; i++) TensorAssert.Close(fused.Grads[i], composed.Grads[i], atol, rtol, "grad " + names[i]);
    }

    private static Variable ComposedAttention(Variable q, Variable k, Variable v, Variable? bias, Tensor? additiveMask, Tensor? keepMask = null)
    {
        var scores = Fn.Scale(Fn.MatMul(q, Fn.Transpose(k, -1, -2)), 1 / Math.Sqrt(q.Shape[3]));
        if (bias is not null) scores = Fn.Add(scores, bias);
        if (additiveMask is not null) scores = Fn.Add(scores, Variable.Constant(additiveMask));
        var weights = Fn.Softmax(scores, -1);
        if (keepMask is not null) weights = Fn.Mul(weights, Variable.Constant(keepMask));
        return Fn.MatMul(weights, v);
    }

    // (B, H, Nq, Nk, D): particle attention with pair bias (ParT), a padded-key variant without bias,
    // and class attention (one query over N + 1 keys, no bias; 129 keys = eight whole 16-key blocks and one of a single key).
    [TestCase(DType.Float32, 3, 8, 20, 20, 16, true)]
    [TestCase(DType.Float32, 2, 2, 33, 33, 32, false)]
    [TestCase(DType.Float32, 3, 8, 1, 21, 16, false)]
    [TestCase(DType.Float32, 3, 8, 1, 129, 16, false)]
    [TestCase(DType.Float64, 2, 2, 9, 140, 16, true)]
    public void AttentionMatchesComposedForwardAndBackward(DType dtype, int b, int h, int nq, int nk, int d, bool withBias) => NotImplementedGuard.Run(backend, () =>
    {
        using var q = Rand.Tensor(backend, 201, new Shape(b, h, nq, d), dtype, -2, 2);
        using var k = Rand.Tensor(backend, 202, new Shape(b, h, nk, d), dtype, -2, 2);
        using var v = Rand.Tensor(backend, 203, new Shape(b, h, nk, d), dtype);
        using var u = Rand.Tensor(backend, 204, new Shape(b, h, nq, nk), dtype, -2, 2);
        // Last jet fully padded (zeros and zero gradients on both paths); others lose every third key.
        var maskData = Enumerable.Range(0, b * nk).Select(i => i / nk == b - 1 ? 0.0 : i % 3 == 2 ? 0.0 : 1.0).ToArray();
        using var mask = dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, maskData, new Shape(b, nk))
            : Tensor.FromArray<float>(backend, Array.ConvertAll(maskData, x => (float)x), new Shape(b, nk));
        var additive = maskData.Select(m => m == 0 ? double.NegativeInfinity : 0).ToArray();
        using var addMask = dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, additive, new Shape(b, 1, 1, nk))
            : Tensor.FromArray<float>(backend, Array.ConvertAll(additive, x => (float)x), new Shape(b, 1, 1, nk));
        Tensor[] inputs = withBias ? [q, k, v, u] : [q, k, v];
        var fused = Run(x => Fn.Attention(x[0], x[1], x[2], withBias ? x[3] : null, mask), inputs, 205);
        var composed = Run(x => ComposedAttention(x[0], x[1], x[2], withBias ? x[3] : null, addMask), inputs, 205);
        double tol = dtype == DType.Float64 ? 1e-11 : 2e-5;
        AssertSame(fused, composed, tol, 1e-4, withBias ? ["q", "k", "v", "bias"] : ["q", "k", "v"]);
        int perJet = h * nq * d;
        Assert.That(fused.Output.AsSpan((b - 1) * perJet).ToArray(), Has.All.EqualTo(0.0), "fully padded jet");
    });

    // Dropout on the attention weights: fused vs softmax → ⊙ (keep / (1 − p)) with the keep mask of
    // AttentionDropout (built on the host) → matmul, forward and backward.
    [TestCase(DType.Float32, 3, 8, 20, 20, 16, true, 0.1)]
    [TestCase(DType.Float32, 3, 8, 1, 21, 16, false, 0.1)]
    [TestCase(DType.Float64, 2, 2, 9, 140, 16, true, 0.4)]
    public void AttentionWithDropoutMatchesComposed(DType dtype, int b, int h, int nq, int nk, int d, bool withBias, double p) => NotImplementedGuard.Run(backend, () =>
    {
        const ulong seed = 77;
        using var q = Rand.Tensor(backend, 241, new Shape(b, h, nq, d), dtype, -2, 2);
        using var k = Rand.Tensor(backend, 242, new Shape(b, h, nk, d), dtype, -2, 2);
        using var v = Rand.Tensor(backend, 243, new Shape(b, h, nk, d), dtype);
        using var u = Rand.Tensor(backend, 244, new Shape(b, h, nq, nk), dtype, -2, 2);
        var maskData = Enumerable.Range(0, b * nk).Select(i => i / nk == b - 1 ? 0.0 : i % 3 == 2 ? 0.0 : 1.0).ToArray();
        var additive = maskData.Select(m => m == 0 ? double.NegativeInfinity : 0).ToArray();
        var dropout = new AttentionDropout(p, seed);
        var keep = new double[b * h * nq * nk];
        for (int row = 0; row < b * h * nq; row++)
            for (int j = 0; j < nk; j++) keep[row * nk + j] = dropout.Keeps(row, j) ? 1 / (1 - p) : 0;
        using var mask = Make(backend, maskData, new Shape(b, nk), dtype);
        using var addMask = Make(backend, additive, new Shape(b, 1, 1, nk), dtype);
        using var keepMask = Make(backend, keep, new Shape(b, h, nq, nk), dtype);
        Tensor[] inputs = withBias ? [q, k, v, u] : [q, k, v];
        var fused = Run(x => Fn.Attention(x[0], x[1], x[2], withBias ? x[3] : null, mask, p, seed), inputs, 245);
        var composed = Run(x => ComposedAttention(x[0], x[1], x[2], withBias ? x[3] : null, addMask, keepMask), inputs, 245);
        double tol = dtype == DType.Float64 ? 1e-11 : 2e-5;
        AssertSame(fused, composed, tol, 1e-4, withBias ? ["q", "k", "v", "bias"] : ["q", "k", "v"]);
        var undropped = Run(x => Fn.Attention(x[0], x[1], x[2], withBias ? x[3] : null, mask), inputs, 245);
        Assert.That(fused.Output, Is.Not.EqualTo(undropped.Output), "dropout changed the output");
    });

    // Jets padded at the end (real lengths 1, 15, 16, 17, 33, 40 of 40 keys; the CPU kernels skip the
    // keys after the last valid one), with and without bias and dropout: class attention (nq = 1;
    // float32 D = 16 is the CPU's single-query kernel) and particle attention (nq = 13).
    [TestCase(DType.Float32, 1, true, 0.0)]
    [TestCase(DType.Float32, 1, false, 0.0)]
    [TestCase(DType.Float32, 1, true, 0.25)]
    [TestCase(DType.Float64, 1, true, 0.25)]
    [TestCase(DType.Float32, 13, true, 0.0)]
    [TestCase(DType.Float32, 13, true, 0.25)]
    [TestCase(DType.Float64, 13, false, 0.25)]
    public void AttentionOverTailPaddedJetsMatchesComposed(DType dtype, int nq, bool withBias, double p) => NotImplementedGuard.Run(backend, () =>
    {
        const int h = 3, nk = 40, d = 16;
        const ulong seed = 5;
        int[] real = [1, 15, 16, 17, 33, 40];
        int b = real.Length;
        using var q = Rand.Tensor(backend, 251, new Shape(b, h, nq, d), dtype, -2, 2);
        using var k = Rand.Tensor(backend, 252, new Shape(b, h, nk, d), dtype, -2, 2);
        using var v = Rand.Tensor(backend, 253, new Shape(b, h, nk, d), dtype);
        using var u = Rand.Tensor(backend, 254, new Shape(b, h, nq, nk), dtype, -2, 2);
        var maskData = Enumerable.Range(0, b * nk).Select(i => i % nk < real[i / nk] ? 1.0 : 0.0).ToArray();
        var additive = maskData.Select(m => m == 0 ? double.NegativeInfinity : 0).ToArray();
        var keep = new double[b * h * nq * nk];
        var dropout = p == 0 ? AttentionDropout.None : new AttentionDropout(p, seed);
        for (int row = 0; row < b * h * nq; row++)
            for (int j = 0; j < nk; j++) keep[row * nk + j] = dropout.Keeps(row, j) ? 1 / (1 - p) : 0;
        using var mask = Make(backend, maskData, new Shape(b, nk), dtype);
        using var addMask = Make(backend, additive, new Shape(b, 1, 1, nk), dtype);
        using var keepMask = Make(backend, keep, new Shape(b, h, nq, nk), dtype);
        Tensor[] inputs = withBias ? [q, k, v, u] : [q, k, v];
        var fused = Run(x => Fn.Attention(x[0], x[1], x[2], withBias ? x[3] : null, mask, p, seed), inputs, 255);
        var composed = Run(x => ComposedAttention(x[0], x[1], x[2], withBias ? x[3] : null, addMask, p == 0 ? null : keepMask), inputs, 255);
        double tol = dtype == DType.Float64 ? 1e-11 : 2e-5;
        AssertSame(fused, composed, tol, 1e-4, withBias ? ["q", "k", "v", "bias"] : ["q", "k", "v"]);
    });

    private static Tensor Make(IBackend backend, double[] data, Shape shape, DType dtype) => dtype == DType.Float64
        ? Tensor.FromArray<double>(backend, data, shape)
        : Tensor.FromArray<float>(backend, Array.ConvertAll(data, x => (float)x), shape);

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void EdgeConvProjectMatchesLinearOverEdgeFeatures(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        const int b = 3, c = 5, n = 19, k = 7, o = 6;
        using var x = Rand.Tensor(backend, 211, new Shape(b, c, n), dtype);
        using var w = Rand.Tensor(backend, 212, new Shape(o, 2 * c), dtype);
        using var idx = Tensor.FromArray<int>(backend, Rand.Ints(213, b * n * k, 0, n), new Shape(b, n, k));
        var fused = Run(v => Fn.EdgeConvProject(v[0], v[1], idx), [x, w], 214);
        // weaver: conv1x1 over get_graph_feature, i.e. Linear over the channel axis of (B, 2C, N, K).
        var composed = Run(v => Fn.Permute(Fn.Linear(Fn.Permute(Fn.EdgeFeatures(v[0], idx), 0, 2, 3, 1), v[1]), 0, 3, 1, 2), [x, w], 214);
        double tol = dtype == DType.Float64 ? 1e-12 : 2e-5;
        AssertSame(fused, composed, tol, 1e-4, ["x", "weight"]);
    });

    [Test]
    public void GatherNeighborsMatchesTorchStyleGather() => NotImplementedGuard.Run(backend, () =>
    {
        // x_j via the generic Gather on (B, C, N·K) with the index broadcast over channels.
        const int b = 2, c = 3, n = 11, k = 4;
        using var x = Rand.Tensor(backend, 221, new Shape(b, c, n), DType.Float64);
        var id = Rand.Ints(222, b * n * k, 0, n);
        using var idx = Tensor.FromArray<int>(backend, id, new Shape(b, n, k));
        var expanded = new int[b * c * n * k];
        for (int bi = 0; bi < b; bi++)
            for (int ci = 0; ci < c; ci++) Array.Copy(id, bi * n * k, expanded, (bi * c + ci) * n * k, n * k);
        using var flatIdx = Tensor.FromArray<int>(backend, expanded, new Shape(b, c, n * k));
        var fused = Run(v => Fn.GatherNeighbors(v[0], idx), [x], 223);
        var composed = Run(v => Fn.Reshape(Fn.Gather(v[0], 2, flatIdx), b, c, n, k), [x], 223);
        AssertSame(fused, composed, 1e-12, 1e-12, ["x"]);
    });

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void MaskedSoftmaxMatchesSoftmaxOfMaskedLogits(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        using var x = Rand.Tensor(backend, 231, new Shape(2, 3, 37), dtype, -5, 5);
        var maskData = Enumerable.Range(0, 2 * 37).Select(i => i % 4 == 1 || i >= 37 + 30 ? double.NegativeInfinity : 0).ToArray();
        using var mask = dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, maskData, new Shape(2, 1, 37))
            : Tensor.FromArray<float>(backend, Array.ConvertAll(maskData, m => (float)m), new Shape(2, 1, 37));
        var fused = Run(v => Fn.MaskedSoftmax(v[0], mask), [x], 232);
        var composed = Run(v => Fn.Softmax(Fn.Add(v[0], Variable.Constant(mask)), -1), [x], 232);
        double tol = dtype == DType.Float64 ? 1e-14 : 1e-6;
        AssertSame(fused, composed, tol, 1e-5, ["x"]);
    });
}
