using Hep.Engine;

namespace Hep.TestSupport;

/// <summary>
/// A test operand: a tensor and, in float64, exactly the values it holds (host values rounded to its dtype),
/// so a float64 reference computed from <see cref="Values"/> sees what the kernel sees. Disposing it disposes
/// the tensor.
/// </summary>
public sealed class Operand(Tensor tensor, double[] values) : IDisposable
{
    public Tensor Tensor { get; } = tensor;
    public double[] Values { get; } = values;

    public Shape Shape => Tensor.Shape;

    public void Dispose() => Tensor.Dispose();
}

/// <summary>
/// Builders of GEMM (MatMul, MatMulBatchSum, MatMulEpilogue) test operands and their float64 reference: one
/// copy for every matmul test instead of a Make/Round/Reference trio per file.
/// </summary>
public static class Operands
{
    /// <summary>The values as the dtype stores them (float32: rounded once; float64: unchanged).</summary>
    public static double[] Round(double[] values, DType dtype) =>
        dtype == DType.Float32 ? Array.ConvertAll(values, v => (double)(float)v) : values;

    /// <summary>A float32 or float64 tensor holding the host values (row-major).</summary>
    public static Tensor FromDoubles(IBackend backend, double[] values, Shape shape, DType dtype) => dtype switch
    {
        DType.Float64 => Tensor.FromArray<double>(backend, values, shape),
        DType.Float32 => Tensor.FromArray<float>(backend, Array.ConvertAll(values, v => (float)v), shape),
        _ => throw new ArgumentException($"Operands.FromDoubles: dtype {dtype}"),
    };

    /// <summary>Host values as an operand of the dtype.</summary>
    public static Operand From(IBackend backend, double[] values, Shape shape, DType dtype) =>
        new(FromDoubles(backend, values, shape, dtype), Round(values, dtype));

    /// <summary>Seeded uniform values in [low, high) (the values <see cref="Rand.Tensor"/> gives for the seed) as an operand.</summary>
    public static Operand Random(IBackend backend, int seed, Shape shape, DType dtype = DType.Float32, double low = -1, double high = 1) =>
        From(backend, Rand.Doubles(seed, (int)shape.Numel, low, high), shape, dtype);

    /// <summary>
    /// Float64 reference c[bi] = a[bi]·b[bi] of row-major (batch, m, k) and (batch, k, n) values → (batch, m, n);
    /// a shared operand is one (m, k) or (k, n) matrix used by every batch entry (a broadcast operand).
    /// </summary>
    public static double[] Gemm(double[] a, double[] b, int batch, int m, int k, int n, bool aShared = false, bool bShared = false)
    {
        var c = new double[batch * m * n];
        for (int bi = 0; bi < batch; bi++)
        {
            int ab = aShared ? 0 : bi, bb = bShared ? 0 : bi;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[(ab * m + i) * k + p] * b[(bb * k + p) * n + j];
                    c[(bi * m + i) * n + j] = s;
                }
            }
        }
        return c;
    }
}
