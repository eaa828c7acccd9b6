using Hep.Engine;
using Hep.Engine.Ops;
using Hep.Kernels.Cpu.Gemm;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Batched GEMM on the CPU: packed SIMD <see cref="Sgemm"/> for float32, <see cref="Dgemm"/> for float64;
/// the batch-reduced form (Σ_b a[b]·b[b]) accumulates into one (M, N) result without a batched temporary.
/// </summary>
internal sealed class CpuLinearAlgebraOps : ILinearAlgebraOps
{
    public void MatMul(Tensor a, Tensor b, Tensor c, double beta = 0)
    {
        if (a.Rank != 3 || b.Rank != 3 || c.Rank != 3)
            throw new ArgumentException($"MatMul(cpu): expects (batch, M, K)·(batch, K, N) → (batch, M, N), got {a.Shape}·{b.Shape} → {c.Shape}");
        if (!c.IsContiguous) throw new ArgumentException("MatMul(cpu): destination must be contiguous");
        if (beta != 0 && beta != 1) throw new BackendNotSupportedException("MatMul", "cpu", $"beta = {beta} (only 0 or 1)");
        int batch = c.Shape[0], m = c.Shape[1], n = c.Shape[2], k = a.Shape[2];
        bool accumulate = beta == 1;
        switch (c.DType)
        {
            case DType.Float32:
                Sgemm.Run(batch, m, n, k, Operand<float>(a), Operand<float>(b), CpuTensor.Array<float>(c, "MatMul"), c.Offset, accumulate);
                break;
            case DType.Float64:
                Dgemm.Run(batch, m, n, k, Operand<double>(a), Operand<double>(b), CpuTensor.Array<double>(c, "MatMul"), c.Offset, accumulate);
                break;
            default:
                throw new BackendNotSupportedException("MatMul", "cpu", $"dtype {c.DType}");
        }
    }

    public void MatMulBatchSum(Tensor a, Tensor b, Tensor c, double beta = 0)
    {
        if (a.Rank != 3 || b.Rank != 3 || c.Rank != 2 || a.Shape[0] != b.Shape[0])
            throw new ArgumentException($"MatMulBatchSum(cpu): expects (batch, M, K)·(batch, K, N) → (M, N), got {a.Shape}·{b.Shape} → {c.Shape}");
        if (!c.IsContiguous) throw new ArgumentException("MatMulBatchSum(cpu): destination must be contiguous");
        if (beta != 0 && beta != 1) throw new BackendNotSupportedException("MatMulBatchSum", "cpu", $"beta = {beta} (only 0 or 1)");
        int batch = a.Shape[0], m = c.Shape[0], n = c.Shape[1], k = a.Shape[2];
        bool accumulate = beta == 1;
        switch (c.DType)
        {
            case DType.Float32:
                Sgemm.RunBatchSum(batch, m, n, k, Operand<float>(a), Operand<float>(b), CpuTensor.Array<float>(c, "MatMulBatchSum"), c.Offset, accumulate);
                break;
            case DType.Float64:
                // float64 (reference runs): one batch item at a time, accumulating (rows split across cores).
                var da = Operand<double>(a);
                var db = Operand<double>(b);
                var dc = CpuTensor.Array<double>(c, "MatMulBatchSum");
                if (batch == 0 && !accumulate) dc.AsSpan(c.Offset, m * n).Clear();
                for (int i = 0; i < batch; i++)
                {
                    Dgemm.Run(1, m, n, k, da with { Offset = da.Offset + i * da.BatchStride }, db with { Offset = db.Offset + i * db.BatchStride },
                        dc, c.Offset, accumulate || i > 0);
                }
                break;
            default:
                throw new BackendNotSupportedException("MatMulBatchSum", "cpu", $"dtype {c.DType}");
        }
    }

    private static GemmOperand<T> Operand<T>(Tensor t) where T : unmanaged =>
        new(CpuTensor.Array<T>(t, "MatMul"), t.Offset, t.Shape[0] == 1 ? 0 : t.Strides[0], t.Strides[1], t.Strides[2]);
}
