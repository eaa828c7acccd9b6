namespace Hep.Engine.Tests;

/// <summary>
/// float32 layer norm (the CPU's fused 16-lane rows, the ILGPU kernel) against a float64 reference for
/// row lengths below, at and between whole vectors (ragged tails), with and without γ/β, y aliasing
/// nothing; mean and rstd outputs checked too.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class LayerNormFloatTests(IBackend backend)
{
    [Test]
    public void Float32RowsMatchFloat64([Values(5, 16, 17, 33, 128, 200, 512)] int n, [Values] bool affine)
    {
        int rows = 37;
        var data = Rand.Doubles(50 + n, rows * n, -2, 5).Select(v => (double)(float)v).ToArray();
        var gamma = Rand.Doubles(51, n, 0.5, 1.5).Select(v => (double)(float)v).ToArray();
        var beta = Rand.Doubles(52, n).Select(v => (double)(float)v).ToArray();
        using var x = Tensor.FromArray<float>(backend, Array.ConvertAll(data, v => (float)v), new Shape(rows, n));
        using var g = Tensor.FromArray<float>(backend, Array.ConvertAll(gamma, v => (float)v), new Shape(n));
        using var b = Tensor.FromArray<float>(backend, Array.ConvertAll(beta, v => (float)v), new Shape(n));
        using var y = Tensor.Empty(backend, x.Shape, DType.Float32);
        using var mean = Tensor.Empty(backend, new Shape(rows), DType.Float32);
        using var rstd = Tensor.Empty(backend, new Shape(rows), DType.Float32);
        backend.Norm.LayerNormForward(x, affine ? g : null, affine ? b : null, 1e-5, y, mean, rstd);
        var expected = new double[rows * n];
        var expectedMean = new double[rows];
        var expectedRstd = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = data.Skip(r * n).Take(n).ToArray();
            double mu = row.Average(), variance = row.Select(v => (v - mu) * (v - mu)).Average();
            expectedMean[r] = mu;
            expectedRstd[r] = 1 / Math.Sqrt(variance + 1e-5);
            for (int i = 0; i < n; i++)
                expected[r * n + i] = (row[i] - mu) * expectedRstd[r] * (affine ? gamma[i] : 1) + (affine ? beta[i] : 0);
        }
        TensorAssert.Close(y, expected, 2e-5, 2e-5, $"y, n = {n}");
        TensorAssert.Close(mean, expectedMean, 2e-6, 2e-6, "mean");
        TensorAssert.Close(rstd, expectedRstd, 2e-6, 2e-6, "rstd");
    }
}
