namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// Attention-weight dropout inside the fused attention kernel: the keep mask read back out of the
/// kernel equals <see cref="AttentionDropout"/>'s formula, the drop rate is p, the log-sum-exp is the
/// undropped one, p = 0 is exactly the plain kernel and the mask depends only on the seed.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class AttentionDropoutTests(IBackend backend)
{
    private Tensor Make(double[] data, Shape shape, DType dtype) => dtype == DType.Float64
        ? Tensor.FromArray<double>(backend, data, shape)
        : Tensor.FromArray<float>(backend, Array.ConvertAll(data, v => (float)v), shape);

    // q = k = 0 makes every valid key's weight 1/valid; v = identity (D = Nk) then puts weight (i, j)·Z_ij
    // into output column j, so output·valid is the kernel's dropout factor Z_ij ∈ {0, 1/(1 − p)}.
    [TestCase(DType.Float32, 0.1)]
    [TestCase(DType.Float64, 0.1)]
    [TestCase(DType.Float32, 0.5)]
    public void KeepMaskReadFromTheKernelMatchesTheFormulaAndRate(DType dtype, double p) => NotImplementedGuard.Run(backend, () =>
    {
        const int b = 4, h = 4, nq = 50, nk = 32;
        const ulong seed = 0xC0FFEE;
        using var q = Make(new double[b * h * nq * nk], new Shape(b, h, nq, nk), dtype);
        using var k = Make(new double[b * h * nk * nk], new Shape(b, h, nk, nk), dtype);
        var eye = new double[b * h * nk * nk];
        for (int s = 0; s < b * h; s++)
            for (int j = 0; j < nk; j++) eye[(s * nk + j) * nk + j] = 1;
        using var v = Make(eye, new Shape(b, h, nk, nk), dtype);
        // Jet 1 pads keys 5 and 31 (their weights are 0 whatever the mask says).
        var maskData = Enumerable.Repeat(1.0, b * nk).ToArray();
        maskData[nk + 5] = maskData[nk + 31] = 0;
        using var mask = Make(maskData, new Shape(b, nk), dtype);
        var dropout = new AttentionDropout(p, seed);
        using var output = TensorOps.Attention(q, k, v, null, mask, dropout, out var lse);
        using var plain = TensorOps.Attention(q, k, v, null, mask, out var plainLse);
        using (lse)
        using (plainLse)
            Assert.That(lse.ToDoubleArray(), Is.EqualTo(plainLse.ToDoubleArray()), "lse is that of the undropped softmax");
        var o = output.ToDoubleArray();
        double keepScale = 1 / (1 - p), tol = dtype == DType.Float64 ? 1e-12 : 1e-5;
        int dropped = 0, weights = 0, mismatches = 0;
        for (int row = 0; row < b * h * nq; row++)
        {
            int jet = row / (h * nq);
            int valid = jet == 1 ? nk - 2 : nk;
            for (int j = 0; j < nk; j++)
            {
                double z = o[row * nk + j] * valid;
                bool padded = maskData[jet * nk + j] == 0;
                double expected = padded ? 0 : dropout.Keeps(row, j) ? keepScale : 0;
                if (Math.Abs(z - expected) > tol * keepScale) mismatches++;
                if (padded) continue;
                weights++;
                if (z == 0) dropped++;
            }
        }
        Assert.That(mismatches, Is.Zero, "kernel keep mask vs AttentionDropout.Keeps");
        double rate = (double)dropped / weights;
        // 25.5k weights: the rate's standard error is ≤ 0.0032; 0.015 is over 4.5 σ.
        Assert.That(rate, Is.EqualTo(p).Within(0.015), $"empirical drop rate {rate:F4} vs p = {p}");
    });

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void ZeroProbabilityIsExactlyThePlainKernelAndTheMaskFollowsTheSeed(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        using var q = Rand.Tensor(backend, 41, new Shape(2, 3, 9, 16), dtype, -2, 2);
        using var k = Rand.Tensor(backend, 42, new Shape(2, 3, 21, 16), dtype, -2, 2);
        using var v = Rand.Tensor(backend, 43, new Shape(2, 3, 21, 16), dtype);
        using var u = Rand.Tensor(backend, 44, new Shape(2, 3, 9, 21), dtype);
        using var plain = TensorOps.Attention(q, k, v, u, null, out var l0);
        using var p0 = TensorOps.Attention(q, k, v, u, null, new AttentionDropout(0, 7), out var l1);
        Assert.That(p0.ToDoubleArray(), Is.EqualTo(plain.ToDoubleArray()), "p = 0 output");
        using var a = TensorOps.Attention(q, k, v, u, null, new AttentionDropout(0.2, 7), out var l2);
        using var again = TensorOps.Attention(q, k, v, u, null, new AttentionDropout(0.2, 7), out var l3);
        using var other = TensorOps.Attention(q, k, v, u, null, new AttentionDropout(0.2, 8), out var l4);
        Assert.That(again.ToDoubleArray(), Is.EqualTo(a.ToDoubleArray()), "same seed, same output");
        Assert.That(other.ToDoubleArray(), Is.Not.EqualTo(a.ToDoubleArray()), "another seed drops other weights");
        Assert.That(a.ToDoubleArray(), Is.Not.EqualTo(plain.ToDoubleArray()), "p = 0.2 changes the output");
        foreach (var l in new[] { l0, l1, l2, l3, l4 }) l.Dispose();
    });

    [Test]
    public void ProbabilityOutsideZeroToOneIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AttentionDropout(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AttentionDropout(-0.1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AttentionDropout(double.NaN, 0));
    }
}
