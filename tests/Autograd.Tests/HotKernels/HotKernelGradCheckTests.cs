namespace Hep.Autograd.Tests.HotKernels;

/// <summary>
/// Float64 finite-difference gradient checks of the hot-path ops. Neighbour and edge indices, masks
/// and segment ids are fixed inputs (never perturbed), as a flipped neighbour would make the
/// numerical derivative meaningless.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class HotKernelGradCheckTests(IBackend backend)
{
    private Tensor R(int seed, params int[] shape) => Rand.Tensor(backend, seed, new Shape(shape), DType.Float64);

    private Tensor Ints(int seed, int high, params int[] shape) =>
        Tensor.FromArray<int>(backend, Rand.Ints(seed, (int)new Shape(shape).Numel, 0, high), new Shape(shape));

    private void AssertPasses(Func<Variable[], Variable> f, Tensor[] inputs, bool[] needs) => NotImplementedGuard.Run(backend, () =>
    {
        using var scope = TensorScope.Begin();
        var result = GradCheck.Check(f, inputs, needs);
        Assert.That(result.Passed, Is.True, result.Report);
    });

    [Test]
    public void EdgeFeaturesAndGatherNeighbors()
    {
        using var x = R(101, 2, 3, 5);
        using var idx = Ints(102, 5, 2, 5, 3);
        AssertPasses(v => Fn.EdgeFeatures(v[0], v[1].Data), [x, idx], [true, false]);
        AssertPasses(v => Fn.GatherNeighbors(v[0], v[1].Data), [x, idx], [true, false]);
    }

    [Test]
    public void EdgeConvProjectInInputAndWeight()
    {
        using var x = R(103, 2, 3, 5);
        using var w = R(104, 4, 6);
        using var idx = Ints(105, 5, 2, 5, 3);
        AssertPasses(v => Fn.EdgeConvProject(v[0], v[1], v[2].Data), [x, w, idx], [true, true, false]);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ScatterAddAndSegmentMeanWithEmptySegments(bool deterministic)
    {
        // 7 edges into 6 nodes; nodes 4 and 5 receive nothing.
        using var src = R(106, 7, 3);
        using var idx = Tensor.FromArray<int>(backend, [2, 0, 2, 1, 3, 2, 0], new Shape(7));
        AssertPasses(v => Fn.ScatterAdd(v[0], v[1].Data, 6, deterministic), [src, idx], [true, false]);
        AssertPasses(v => Fn.SegmentMean(v[0], v[1].Data, 6, deterministic), [src, idx], [true, false]);
    }

    [Test]
    public void MaskedSoftmaxWithAFullyMaskedRow()
    {
        using var x = R(107, 3, 6);
        double inf = double.NegativeInfinity;
        using var mask = Tensor.FromArray<double>(backend, [0, inf, 0, 0, inf, 0, inf, inf, inf, inf, inf, inf, 0, 0, 0, 0, 0, 0], new Shape(3, 6));
        AssertPasses(v => Fn.MaskedSoftmax(v[0], v[1].Data), [x, mask], [true, false]);
        AssertPasses(v => Fn.MaskedSoftmax(v[0], null), [x], [true]);
    }

    // Head dims 3 (one padded SIMD vector) and 16 (two float64 vectors); jet 1 loses keys, and in the
    // 3-dim case one jet is fully padded (its queries output zeros, gradient zero).
    [TestCase(3, true)]
    [TestCase(16, false)]
    public void AttentionWithBiasAndPaddingMask(int d, bool fullyPaddedJet)
    {
        const int b = 3, h = 2, n = 4;
        using var q = R(108, b, h, n, d);
        using var k = R(109, b, h, n, d);
        using var v = R(110, b, h, n, d);
        using var u = R(111, b, h, n, n);
        double last = fullyPaddedJet ? 0 : 1;
        using var mask = Tensor.FromArray<double>(backend, [1, 1, 1, 1, 1, 0, 1, 0, last, 0, 0, 0], new Shape(b, n));
        AssertPasses(x => Fn.Attention(x[0], x[1], x[2], x[3], x[4].Data), [q, k, v, u, mask], [true, true, true, true, false]);
        AssertPasses(x => Fn.Attention(x[0], x[1], x[2], null, null), [q, k, v], [true, true, true]);
    }

    // Attention-weight dropout (p = 0.3, fixed seed): the keep mask is a function of the seed only, so
    // finite differences see one fixed mask; covers padding, a fully padded jet and class attention.
    [TestCase(4, true)]
    [TestCase(1, false)]
    public void AttentionWithWeightDropout(int nq, bool withBias)
    {
        const int b = 3, h = 2, nk = 5, d = 3;
        using var q = R(115, b, h, nq, d);
        using var k = R(116, b, h, nk, d);
        using var v = R(117, b, h, nk, d);
        using var u = R(118, b, h, nq, nk);
        using var mask = Tensor.FromArray<double>(backend, [1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0], new Shape(b, nk));
        if (withBias)
            AssertPasses(x => Fn.Attention(x[0], x[1], x[2], x[3], x[4].Data, 0.3, 1234), [q, k, v, u, mask], [true, true, true, true, false]);
        else
            AssertPasses(x => Fn.Attention(x[0], x[1], x[2], null, x[3].Data, 0.3, 1234), [q, k, v, mask], [true, true, true, false]);
    }

    [Test]
    public void ClassAttentionOneQueryOverNPlusOneKeys()
    {
        const int b = 2, h = 2, n = 4, d = 3;
        using var q = R(112, b, h, 1, d);
        using var k = R(113, b, h, n + 1, d);
        using var v = R(114, b, h, n + 1, d);
        using var mask = Tensor.FromArray<double>(backend, [1, 1, 1, 0, 1, 1, 1, 0, 0, 0], new Shape(b, n + 1));
        AssertPasses(x => Fn.Attention(x[0], x[1], x[2], null, x[3].Data), [q, k, v, mask], [true, true, true, false]);
    }
}
