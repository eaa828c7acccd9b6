namespace Hep.Engine.Tests.HotKernels;

/// <summary>EdgeConv gathers (neighbour features, [x_i, x_j − x_i], the fused combine) and their adjoints against host loops.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class EdgeGatherKernelTests(IBackend backend)
{
    // B = 2 jets, C = 5 channels, N = 13 particles, K = 6 neighbours (none a multiple of a SIMD width).
    private const int B = 2, C = 5, N = 13, K = 6;

    private readonly double[] _x = Rand.Doubles(11, B * C * N);
    private readonly int[] _idx = Rand.Ints(12, B * N * K, 0, N);

    private Tensor X(DType dtype) => Make(_x, new Shape(B, C, N), dtype);

    private Tensor Index() => Tensor.FromArray<int>(backend, _idx, new Shape(B, N, K));

    private int J(int b, int n, int k) => _idx[(b * N + n) * K + k];

    private double Xv(int b, int c, int n) => _x[(b * C + c) * N + n];

    private static (double Atol, double Rtol) Tol(DType dtype) =>
        dtype == DType.Float64 ? (Tolerances.F64Atol, Tolerances.F64Rtol) : (Tolerances.F32Atol, Tolerances.F32Rtol);

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void GatherNeighborsAndItsScatterAdjoint(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        var (atol, rtol) = Tol(dtype);
        using var x = X(dtype);
        using var idx = Index();
        using var y = TensorOps.GatherNeighbors(x, idx);
        var expected = new double[B * C * N * K];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < K; k++) expected[((b * C + c) * N + n) * K + k] = Xv(b, c, J(b, n, k));
        TensorAssert.Close(y, expected, atol, rtol, "GatherNeighbors");

        var g = Rand.Doubles(13, B * C * N * K);
        using var gt = Make(g, y.Shape, dtype);
        using var gx = TensorOps.GatherNeighborsBackward(gt, idx);
        var gxExpected = new double[B * C * N];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < K; k++) gxExpected[(b * C + c) * N + J(b, n, k)] += g[((b * C + c) * N + n) * K + k];
        TensorAssert.Close(gx, gxExpected, atol, rtol, "GatherNeighborsBackward");
    });

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void EdgeFeaturesAndBackward(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        var (atol, rtol) = Tol(dtype);
        using var x = X(dtype);
        using var idx = Index();
        using var y = TensorOps.EdgeFeatures(x, idx);
        Assert.That(y.Shape, Is.EqualTo(new Shape(B, 2 * C, N, K)));
        var expected = new double[B * 2 * C * N * K];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < K; k++)
                    {
                        expected[((b * 2 * C + c) * N + n) * K + k] = Xv(b, c, n);
                        expected[((b * 2 * C + C + c) * N + n) * K + k] = Xv(b, c, J(b, n, k)) - Xv(b, c, n);
                    }
        TensorAssert.Close(y, expected, atol, rtol, "EdgeFeatures");

        var g = Rand.Doubles(14, expected.Length);
        using var gt = Make(g, y.Shape, dtype);
        using var gx = TensorOps.EdgeFeaturesBackward(gt, idx);
        var gxExpected = new double[B * C * N];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < K; k++)
                    {
                        double g1 = g[((b * 2 * C + c) * N + n) * K + k], g2 = g[((b * 2 * C + C + c) * N + n) * K + k];
                        gxExpected[(b * C + c) * N + n] += g1 - g2;
                        gxExpected[(b * C + c) * N + J(b, n, k)] += g2;
                    }
        TensorAssert.Close(gx, gxExpected, atol, rtol, "EdgeFeaturesBackward");
    });

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void NeighborCombineAndBackward(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        var (atol, rtol) = Tol(dtype);
        var s = Rand.Doubles(15, B * C * N);
        using var self = Make(s, new Shape(B, C, N), dtype);
        using var nb = X(dtype);
        using var idx = Index();
        using var y = TensorOps.NeighborCombine(self, nb, idx);
        var expected = new double[B * C * N * K];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < K; k++) expected[((b * C + c) * N + n) * K + k] = s[(b * C + c) * N + n] + Xv(b, c, J(b, n, k));
        TensorAssert.Close(y, expected, atol, rtol, "NeighborCombine");

        var g = Rand.Doubles(16, expected.Length);
        using var gt = Make(g, y.Shape, dtype);
        var (gs, gn) = TensorOps.NeighborCombineBackward(gt, idx);
        using (gs)
        using (gn)
        {
            var gsExpected = new double[B * C * N];
            var gnExpected = new double[B * C * N];
            for (int b = 0; b < B; b++)
                for (int c = 0; c < C; c++)
                    for (int n = 0; n < N; n++)
                        for (int k = 0; k < K; k++)
                        {
                            double gv = g[((b * C + c) * N + n) * K + k];
                            gsExpected[(b * C + c) * N + n] += gv;
                            gnExpected[(b * C + c) * N + J(b, n, k)] += gv;
                        }
            TensorAssert.Close(gs, gsExpected, atol, rtol, "NeighborCombineBackward self");
            TensorAssert.Close(gn, gnExpected, atol, rtol, "NeighborCombineBackward neighbor");
        }
    });

    [Test]
    public void NodeThatIsNobodysNeighbourGetsOnlyItsOwnGradient() => NotImplementedGuard.Run(backend, () =>
    {
        // Every particle points at particle 0, so particles 1..3 receive nothing through x_j.
        using var x = Tensor.FromArray<double>(backend, [1, 2, 3, 4], new Shape(1, 1, 4));
        using var idx = Tensor.FromArray<int>(backend, [0, 0, 0, 0, 0, 0, 0, 0], new Shape(1, 4, 2));
        using var g = Tensor.Full(backend, new Shape(1, 1, 4, 2), 1.0, DType.Float64);
        using var gx = TensorOps.GatherNeighborsBackward(g, idx);
        Assert.That(gx.ToArray<double>(), Is.EqualTo(new double[] { 8, 0, 0, 0 }));
    });

    [Test]
    public void OutOfRangeNeighbourIndexThrows() => NotImplementedGuard.Run(backend, () =>
    {
        using var x = Tensor.Zeros(backend, new Shape(1, 2, 3));
        using var idx = Tensor.FromArray<int>(backend, [0, 1, 2, 3, 1, 0], new Shape(1, 3, 2));
        using var good = Tensor.FromArray<int>(backend, [0, 1, 2, 2, 1, 0], new Shape(1, 3, 2));
        TensorOps.GatherNeighbors(x, good).Dispose();   // skipped here if the backend lacks the kernel
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.GatherNeighbors(x, idx).Dispose());
        Assert.That(ex!.Message, Does.Contain("GatherNeighbors"));
    });

    private Tensor Make(double[] data, Shape shape, DType dtype) => Operands.FromDoubles(backend, data, shape, dtype);
}
