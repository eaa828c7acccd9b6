using System.Numerics.Tensors;

namespace Hep.Kernels.Cpu.Gemm;

/// <summary>
/// float64 GEMM for gradient checks and reference runs: row-oriented c[i,:] += a[i,p]·b[p,:] with
/// TensorPrimitives.MultiplyAdd over unit-stride B rows (B is densified first when it is strided).
/// Rows of C split across cores; each C element accumulates in a fixed k order (deterministic).
/// </summary>
internal static class Dgemm
{
    public static void Run(int batch, int m, int n, int k, GemmOperand<double> a, GemmOperand<double> b, double[] c, int cOffset, bool accumulate)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        CpuParallel.For(batch * m, (long)n * k, (s, e) =>
        {
            var dense = new double[b.ColStride == 1 ? 0 : (long)k * n];
            int denseBatch = -1;
            for (int job = s; job < e; job++)
            {
                int bi = job / m, i = job % m;
                var cRow = c.AsSpan(cOffset + (bi * m + i) * n, n);
                if (!accumulate) cRow.Clear();
                if (b.ColStride != 1 && denseBatch != bi)
                {
                    for (int p = 0; p < k; p++)
                        for (int j = 0; j < n; j++) dense[p * n + j] = b.Data[b.Index(bi, p, j)];
                    denseBatch = bi;
                }
                for (int p = 0; p < k; p++)
                {
                    double av = a.Data[a.Index(bi, i, p)];
                    ReadOnlySpan<double> bRow = b.ColStride == 1 ? b.Data.AsSpan(b.Index(bi, p, 0), n) : dense.AsSpan(p * n, n);
                    TensorPrimitives.MultiplyAdd(bRow, av, cRow, cRow);
                }
            }
        });
    }
}
