namespace Hep.Engine.Tests.HotKernels;

/// <summary>Masked softmax and fused attention forward against float64 host references, with the masking edge cases.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class AttentionKernelTests(IBackend backend)
{
    private Tensor Make(double[] data, Shape shape, DType dtype) => dtype == DType.Float64
        ? Tensor.FromArray<double>(backend, data, shape)
        : Tensor.FromArray<float>(backend, Array.ConvertAll(data, v => (float)v), shape);

    [Test]
    public void MaskedSoftmaxFullyMaskedRowIsZeroAndLargeLogitsStayFinite() => NotImplementedGuard.Run(backend, () =>
    {
        double inf = double.NegativeInfinity;
        // Row 0: large logits (1234 and 0); row 1: fully masked; row 2: one masked entry; 19 columns (a SIMD tail).
        const int n = 19;
        var x = new double[3 * n];
        var mask = new double[3 * n];
        x[0] = 1234;
        for (int j = 0; j < n; j++) mask[n + j] = inf;
        for (int j = 0; j < n; j++) x[2 * n + j] = j * 0.1;
        mask[2 * n + 4] = inf;
        using var xt = Make(x, new Shape(3, n), DType.Float32);
        using var mt = Make(mask, new Shape(3, n), DType.Float32);
        using var y = TensorOps.MaskedSoftmax(xt, mt);
        var yv = y.ToArray<float>();
        Assert.That(yv, Has.All.Matches<float>(float.IsFinite));
        Assert.That(yv[0], Is.EqualTo(1f));
        Assert.That(yv.AsSpan(1, n - 1).ToArray(), Has.All.EqualTo(0f));
        Assert.That(yv.AsSpan(n, n).ToArray(), Has.All.EqualTo(0f), "fully masked row");
        var row2 = Enumerable.Range(0, n).Select(j => j == 4 ? 0 : Math.Exp(j * 0.1)).ToArray();
        double sum = row2.Sum();
        for (int j = 0; j < n; j++) Assert.That(yv[2 * n + j], Is.EqualTo(row2[j] / sum).Within(1e-6));
    });

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void MaskedSoftmaxBroadcastsTheMask(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        // x (2, 3, 4, 21) with a key mask (2, 1, 1, 21) and with a per-row scalar mask (2, 3, 4, 1).
        var x = Rand.Doubles(31, 2 * 3 * 4 * 21, -3, 3);
        var keyMask = Enumerable.Range(0, 2 * 21).Select(i => i % 5 == 2 ? double.NegativeInfinity : 0).ToArray();
        var rowMask = Enumerable.Range(0, 24).Select(i => i % 7 == 3 ? double.NegativeInfinity : 0).ToArray();
        using var xt = Make(x, new Shape(2, 3, 4, 21), dtype);
        using var km = Make(keyMask, new Shape(2, 1, 1, 21), dtype);
        using var rm = Make(rowMask, new Shape(2, 3, 4, 1), dtype);
        using var y1 = TensorOps.MaskedSoftmax(xt, km);
        using var y2 = TensorOps.MaskedSoftmax(xt, rm);
        var e1 = new double[x.Length];
        var e2 = new double[x.Length];
        for (int r = 0; r < 24; r++)
        {
            int b = r / 12;
            var l1 = Enumerable.Range(0, 21).Select(j => x[r * 21 + j] + keyMask[b * 21 + j]).ToArray();
            var l2 = Enumerable.Range(0, 21).Select(j => x[r * 21 + j] + rowMask[r]).ToArray();
            Softmax(l1).CopyTo(e1, r * 21);
            Softmax(l2).CopyTo(e2, r * 21);
        }
        double tol = dtype == DType.Float64 ? 1e-12 : 1e-6;
        TensorAssert.Close(y1, e1, tol, tol, "key mask");
        TensorAssert.Close(y2, e2, tol, tol, "row mask");
    });

    private static double[] Softmax(double[] logits)
    {
        double m = logits.Max();
        if (double.IsNegativeInfinity(m)) return new double[logits.Length];
        var e = logits.Select(v => Math.Exp(v - m)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    /// <summary>float64 host attention: per (b, h, i), softmax over keys of q·k/√D + U + mask, times v.</summary>
    internal static double[] HostAttention(double[] q, double[] k, double[] v, double[]? bias, double[]? mask, int b, int h, int nq, int nk, int d)
    {
        var output = new double[b * h * nq * d];
        double scale = 1 / Math.Sqrt(d);
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int i = 0; i < nq; i++)
                {
                    int bh = bi * h + hi;
                    var logits = new double[nk];
                    for (int j = 0; j < nk; j++)
                    {
                        double s = 0;
                        for (int c = 0; c < d; c++) s += q[(bh * nq + i) * d + c] * k[(bh * nk + j) * d + c];
                        logits[j] = s * scale + (bias?[(bh * nq + i) * nk + j] ?? 0) + (mask is null || mask[bi * nk + j] != 0 ? 0 : double.NegativeInfinity);
                    }
                    var p = Softmax(logits);
                    for (int j = 0; j < nk; j++)
                        for (int c = 0; c < d; c++) output[(bh * nq + i) * d + c] += p[j] * v[(bh * nk + j) * d + c];
                }
        return output;
    }

    // (B, H, Nq, Nk, D): ParT-like blocks with and without bias, class attention (Nq = 1, Nk = N + 1),
    // a head dim that is not a SIMD multiple, and several key blocks (Nk > 128).
    [TestCase(DType.Float32, 2, 3, 37, 37, 16, true)]
    [TestCase(DType.Float32, 2, 2, 20, 20, 32, false)]
    [TestCase(DType.Float32, 3, 8, 1, 34, 16, false)]
    [TestCase(DType.Float64, 2, 2, 9, 11, 5, true)]
    [TestCase(DType.Float32, 1, 2, 17, 300, 16, true)]
    [TestCase(DType.Float64, 1, 1, 10, 150, 16, false)]
    public void AttentionMatchesHostReference(DType dtype, int b, int h, int nq, int nk, int d, bool withBias) => NotImplementedGuard.Run(backend, () =>
    {
        var q = Rand.Doubles(41, b * h * nq * d, -2, 2);
        var k = Rand.Doubles(42, b * h * nk * d, -2, 2);
        var v = Rand.Doubles(43, b * h * nk * d);
        var bias = withBias ? Rand.Doubles(44, b * h * nq * nk, -3, 3) : null;
        // Jet 0 keeps every key; the others lose a scattered third of them.
        var mask = Enumerable.Range(0, b * nk).Select(i => i < nk || i % 3 != 1 ? 1.0 : 0.0).ToArray();
        using var output = RunAttention(q, k, v, bias, mask, b, h, nq, nk, d, dtype, out var lse);
        using (lse)
        {
            double tol = dtype == DType.Float64 ? 1e-12 : 2e-5;
            TensorAssert.Close(output, HostAttention(q, k, v, bias, mask, b, h, nq, nk, d), tol, 1e-4, "attention output");
            Assert.That(lse.Shape, Is.EqualTo(new Shape(b, h, nq)));
            Assert.That(lse.ToDoubleArray(), Has.All.Matches<double>(double.IsFinite));
        }
    });

    // Jets padded at the end, as real jets are (the CPU kernel skips keys after the last valid one):
    // real lengths 1, 15, 16, 17, 33 and all 40 keys (vector and tile boundaries in float32 and float64),
    // plus one jet with holes before its last valid key; output and log-sum-exp vs float64.
    // nq = 1 is class attention (float32, D = 16 takes the CPU's single-query kernel).
    [TestCase(DType.Float32, 16, 13)]
    [TestCase(DType.Float32, 32, 13)]
    [TestCase(DType.Float64, 5, 13)]
    [TestCase(DType.Float64, 8, 13)]
    [TestCase(DType.Float32, 16, 1)]
    [TestCase(DType.Float64, 16, 1)]
    public void TailPaddedJetsMatchHostReference(DType dtype, int d, int nq) => NotImplementedGuard.Run(backend, () =>
    {
        const int h = 2, nk = 40;
        int[] real = [1, 15, 16, 17, 33, 40, 30];
        int b = real.Length;
        var q = Rand.Doubles(61, b * h * nq * d, -2, 2);
        var k = Rand.Doubles(62, b * h * nk * d, -2, 2);
        var v = Rand.Doubles(63, b * h * nk * d);
        var bias = Rand.Doubles(64, b * h * nq * nk, -3, 3);
        var mask = new double[b * nk];
        for (int bi = 0; bi < b; bi++)
            for (int j = 0; j < real[bi]; j++) mask[bi * nk + j] = 1;
        mask[(b - 1) * nk + 3] = mask[(b - 1) * nk + 17] = 0;   // holes before the last valid key
        using var output = RunAttention(q, k, v, bias, mask, b, h, nq, nk, d, dtype, out var lse);
        using (lse)
        {
            double tol = dtype == DType.Float64 ? 1e-12 : 2e-5;
            TensorAssert.Close(output, HostAttention(q, k, v, bias, mask, b, h, nq, nk, d), tol, 1e-4, "attention output");
            TensorAssert.Close(lse, HostLogSumExp(q, k, bias, mask, b, h, nq, nk, d), tol, 1e-5, "log-sum-exp");
        }
    });

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void RowsWhoseBiasMasksEveryKeyGetZerosBesideNormalRows(DType dtype) => NotImplementedGuard.Run(backend, () =>
    {
        // Query rows 2 and 9 of each head (inside the first and the partial second 8-row tile) have −∞ bias on
        // every key: O = 0, lse = −∞ there, while the tile's other rows stay exact (the forward exponentiates a
        // tile's 8 rows together, shifting such a row by 0).
        const int b = 2, h = 2, nq = 13, nk = 37, d = 16;
        int[] blocked = [2, 9];
        var q = Rand.Doubles(71, b * h * nq * d, -2, 2);
        var k = Rand.Doubles(72, b * h * nk * d, -2, 2);
        var v = Rand.Doubles(73, b * h * nk * d);
        var bias = Rand.Doubles(74, b * h * nq * nk, -3, 3);
        var mask = new double[b * nk];
        for (int j = 0; j < nk; j++) mask[j] = j < 30 ? 1 : 0;
        for (int j = 0; j < nk; j++) mask[nk + j] = j != 4 ? 1 : 0;
        for (int bh = 0; bh < b * h; bh++)
            foreach (int i in blocked)
                for (int j = 0; j < nk; j++) bias[(bh * nq + i) * nk + j] = double.NegativeInfinity;
        using var output = RunAttention(q, k, v, bias, mask, b, h, nq, nk, d, dtype, out var lse);
        using (lse)
        {
            var expected = HostAttention(q, k, v, bias, mask, b, h, nq, nk, d);
            var expectedLse = HostLogSumExp(q, k, bias, mask, b, h, nq, nk, d);
            for (int bh = 0; bh < b * h; bh++)
                foreach (int i in blocked)
                {
                    Array.Clear(expected, (bh * nq + i) * d, d);
                    expectedLse[bh * nq + i] = double.NegativeInfinity;
                }
            double tol = dtype == DType.Float64 ? 1e-12 : 2e-5;
            TensorAssert.Close(output, expected, tol, 1e-4, "attention output");
            TensorAssert.Close(lse, expectedLse, tol, 1e-5, "log-sum-exp");
        }
    });

    // Uploads host q, k, v (B, H, N, D), bias (B, H, Nq, Nk) or null and the key mask (B, Nk) in dtype and runs
    // the attention op; the caller owns output and lse.
    private Tensor RunAttention(double[] q, double[] k, double[] v, double[]? bias, double[] mask, int b, int h, int nq, int nk, int d,
        DType dtype, out Tensor lse)
    {
        using var qt = Make(q, new Shape(b, h, nq, d), dtype);
        using var kt = Make(k, new Shape(b, h, nk, d), dtype);
        using var vt = Make(v, new Shape(b, h, nk, d), dtype);
        using var bt = bias is null ? null : Make(bias, new Shape(b, h, nq, nk), dtype);
        using var mt = Make(mask, new Shape(b, nk), dtype);
        return TensorOps.Attention(qt, kt, vt, bt, mt, out lse);
    }

    private static double[] HostLogSumExp(double[] q, double[] k, double[] bias, double[] mask, int b, int h, int nq, int nk, int d)
    {
        var lse = new double[b * h * nq];
        double scale = 1 / Math.Sqrt(d);
        for (int row = 0; row < b * h * nq; row++)
        {
            int bh = row / nq, bi = bh / h;
            var logits = Enumerable.Range(0, nk).Where(j => mask[bi * nk + j] != 0).Select(j =>
                Enumerable.Range(0, d).Sum(c => q[row * d + c] * k[(bh * nk + j) * d + c]) * scale + bias[row * nk + j]).ToArray();
            double m = logits.Max();
            lse[row] = m + Math.Log(logits.Sum(x => Math.Exp(x - m)));
        }
        return lse;
    }

    [Test]
    public void QueryWithoutValidKeysGetsZerosAndMinusInfinityLse() => NotImplementedGuard.Run(backend, () =>
    {
        // Jet 1 is fully padded; jet 0 has valid keys. Bias makes no difference to a padded key.
        const int b = 2, h = 2, n = 5, d = 16;
        using var q = Rand.Tensor(backend, 51, new Shape(b, h, n, d));
        using var k = Rand.Tensor(backend, 52, new Shape(b, h, n, d));
        using var v = Rand.Tensor(backend, 53, new Shape(b, h, n, d));
        using var bias = Rand.Tensor(backend, 54, new Shape(b, h, n, n));
        using var mask = Tensor.FromArray<float>(backend, [1, 1, 0, 1, 0, 0, 0, 0, 0, 0], new Shape(b, n));
        using var output = TensorOps.Attention(q, k, v, bias, mask, out var lse);
        using (lse)
        {
            var o = output.ToArray<float>();
            Assert.That(o.AsSpan(h * n * d).ToArray(), Has.All.EqualTo(0f), "fully padded jet");
            Assert.That(o.AsSpan(0, h * n * d).ToArray().Any(x => x != 0), Is.True);
            var l = lse.ToArray<float>();
            Assert.That(l.AsSpan(h * n).ToArray(), Has.All.EqualTo(float.NegativeInfinity));
        }
    });

    [Test]
    public void RejectsMismatchedShapes()
    {
        using var q = Tensor.Zeros(backend, new Shape(1, 2, 3, 4));
        using var k = Tensor.Zeros(backend, new Shape(1, 2, 5, 4));
        using var badV = Tensor.Zeros(backend, new Shape(1, 2, 4, 4));
        using var badBias = Tensor.Zeros(backend, new Shape(1, 2, 3, 4));
        Assert.Throws<ArgumentException>(() => TensorOps.Attention(q, k, badV, null, null));
        Assert.Throws<ArgumentException>(() => TensorOps.Attention(q, k, k, badBias, null));
    }
}
