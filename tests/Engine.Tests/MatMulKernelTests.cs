namespace Hep.Engine.Tests;

/// <summary>GEMM against a float64 triple loop: edge tiles, K blocks, transposed and broadcast operands.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class MatMulKernelTests(IBackend backend)
{
    // Sizes straddle the micro-tile (8×32 / 6×16), the K block (256) and the row block (128).
    [TestCase(1, 1, 1, 1)]
    [TestCase(1, 7, 5, 33)]
    [TestCase(1, 129, 300, 65)]
    [TestCase(3, 17, 64, 48)]
    [TestCase(1, 300, 513, 70)]
    [TestCase(2, 0, 4, 3)]
    [TestCase(2, 3, 0, 4)]
    public void MatchesReference(int batch, int m, int k, int n)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            using var a = Operands.Random(backend, 51, new Shape(batch, m, k), dtype);
            using var b = Operands.Random(backend, 52, new Shape(batch, k, n), dtype);
            using var c = TensorOps.MatMul(a.Tensor, b.Tensor);
            var expected = Operands.Gemm(a.Values, b.Values, batch, m, k, n);
            double tol = dtype == DType.Float32 ? 2e-5 * Math.Sqrt(Math.Max(k, 1)) : 1e-12;
            TensorAssert.Close(c, expected, tol, tol, $"{dtype} {batch}x{m}x{k}x{n}", allowAllZero: k == 0 || m == 0);
        }
    }

    [Test]
    public void TransposedOperandsAndBroadcastBatch()
    {
        int batch = 4, m = 19, k = 37, n = 45;
        // aT: (batch, k, m) transposed to (batch, m, k); bT: (n, k) transposed to (k, n) and broadcast over batch.
        using var aRaw = Operands.Random(backend, 53, new Shape(batch, k, m));
        using var bRaw = Operands.Random(backend, 54, new Shape(n, k));
        using var a = aRaw.Tensor.Transpose(1, 2);
        using var b = bRaw.Tensor.Transpose(0, 1);
        var (ad, bd) = (aRaw.Values, bRaw.Values);
        using var c = TensorOps.MatMul(a, b);
        Assert.That(c.Shape, Is.EqualTo(new Shape(batch, m, n)));
        var aDense = new double[batch * m * k];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) aDense[(bi * m + i) * k + p] = ad[(bi * k + p) * m + i];
        var bDense = new double[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) bDense[p * n + j] = bd[j * k + p];
        TensorAssert.Close(c, Operands.Gemm(aDense, bDense, batch, m, k, n, bShared: true), 1e-4, 1e-4, "transposed");
    }

    [Test]
    public void AccumulateAddsIntoDestination()
    {
        using var a = Rand.Tensor(backend, 55, new Shape(1, 9, 300));
        using var b = Rand.Tensor(backend, 56, new Shape(1, 300, 40));
        using var c = TensorOps.MatMul(a, b);
        using var acc = Tensor.Full(backend, new Shape(1, 9, 40), 1.0);
        TensorOps.MatMulAccumulate(a, b, acc);
        var cv = c.ToDoubleArray();
        TensorAssert.Close(acc, cv.Select(v => v + 1).ToArray(), 1e-5, 1e-5, "accumulate");
    }

    // Batch-reduced GEMM c = Σ_b a[b]·b[b]: the weight-gradient form (a row-major, b a transposed view,
    // as dW = Σ_b dY_b·X_bᵀ), with sizes off the tiles, a K block boundary, several batch workers and
    // accumulate into a non-zero destination.
    [TestCase(1, 1, 1, 1)]
    [TestCase(3, 13, 29, 37)]
    [TestCase(5, 70, 300, 33)]
    [TestCase(16, 24, 513, 40)]
    [TestCase(0, 4, 3, 5)]
    [TestCase(3, 4, 0, 5)]
    public void BatchSumMatchesReference(int batch, int m, int k, int n)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            using var aOperand = Operands.Random(backend, 57, new Shape(batch, m, k), dtype);
            using var bRaw = Operands.Random(backend, 58, new Shape(batch, n, k), dtype);
            var (a, ad, bd) = (aOperand.Tensor, aOperand.Values, bRaw.Values);
            using var b = bRaw.Tensor.Transpose(1, 2);
            var expected = new double[m * n];
            for (int bi = 0; bi < batch; bi++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        for (int p = 0; p < k; p++) expected[i * n + j] += ad[(bi * m + i) * k + p] * bd[(bi * n + j) * k + p];
            double tol = dtype == DType.Float32 ? 2e-5 * Math.Sqrt(Math.Max(batch * k, 1)) : 1e-12;
            bool empty = batch * k == 0;
            using var c = TensorOps.MatMulBatchSum(a, b);
            Assert.That(c.Shape, Is.EqualTo(new Shape(m, n)));
            TensorAssert.Close(c, expected, tol, tol, $"{dtype} Σ{batch}x{m}x{k}x{n}", allowAllZero: empty);
            using var acc = Tensor.Full(backend, new Shape(m, n), 1.0, dtype);
            backend.LinearAlgebra.MatMulBatchSum(a, b, acc, beta: 1);
            TensorAssert.Close(acc, expected.Select(v => v + 1).ToArray(), tol, tol, $"{dtype} Σ{batch}x{m}x{k}x{n} accumulate");
        }
    }

    [Test]
    public void BatchSumOfBroadcastOperandEqualsSummedProducts()
    {
        // (batch, m, k)·(k, n) broadcast: Σ_b a[b]·B = (Σ_b a[b])·B.
        using var a = Rand.Tensor(backend, 59, new Shape(2, 3, 11, 21));
        using var b = Rand.Tensor(backend, 60, new Shape(21, 9));
        using var c = TensorOps.MatMulBatchSum(a, b);
        using var full = TensorOps.MatMul(a, b);
        using var s0 = TensorOps.Sum(full, 0);
        using var expected = TensorOps.Sum(s0, 0);
        TensorAssert.Close(c, expected.ToDoubleArray(), 1e-4, 1e-4, "broadcast Σ");
    }
}
