using Hep.Engine;
using Hep.Engine.Ops;
using System.Numerics.Tensors;
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

    public void MatMulEpilogue(Tensor a, Tensor b, Tensor c, GemmEpilogue epilogue)
    {
        const string op = "MatMulEpilogue";
        if (a.Rank != 3 || b.Rank != 3 || c.Rank != 3)
            throw new ArgumentException($"{op}(cpu): expects (batch, M, K)·(batch, K, N) → (batch, M, N), got {a.Shape}·{b.Shape} → {c.Shape}");
        if (!c.IsContiguous) throw new ArgumentException($"{op}(cpu): destination must be contiguous");
        foreach (var v in new[] { epilogue.RowScale, epilogue.RowShift, epilogue.ColumnBias })
            if (v is not null && !v.IsContiguous) throw new ArgumentException($"{op}(cpu): epilogue vectors must be contiguous");
        int batch = c.Shape[0], m = c.Shape[1], n = c.Shape[2], k = a.Shape[2];
        switch (c.DType)
        {
            case DType.Float32:
                var e = new SgemmEpilogue(EpilogueArray<float>(epilogue.RowScale), epilogue.RowScale?.Offset ?? 0, EpilogueArray<float>(epilogue.RowShift),
                    epilogue.RowShift?.Offset ?? 0, EpilogueArray<float>(epilogue.ColumnBias), epilogue.ColumnBias?.Offset ?? 0, epilogue.Activation);
                Sgemm.Run(batch, m, n, k, Operand<float>(a), Operand<float>(b), CpuTensor.Array<float>(c, op), c.Offset, accumulate: false, e);
                break;
            case DType.Float64:
                // float64 (reference runs, gradient checks): the product, then the epilogue row by row.
                var dc = CpuTensor.Array<double>(c, op);
                Dgemm.Run(batch, m, n, k, Operand<double>(a), Operand<double>(b), dc, c.Offset, accumulate: false);
                DoubleEpilogue(dc, c.Offset, batch, m, n, epilogue);
                break;
            default:
                throw new BackendNotSupportedException(op, "cpu", $"dtype {c.DType}");
        }
    }

    private static T[]? EpilogueArray<T>(Tensor? t) where T : unmanaged => t is null ? null : CpuTensor.Array<T>(t, "MatMulEpilogue");

    private static void DoubleEpilogue(double[] c, int offset, int batch, int m, int n, GemmEpilogue epilogue)
    {
        var scale = EpilogueArray<double>(epilogue.RowScale);
        var shift = EpilogueArray<double>(epilogue.RowShift);
        var bias = EpilogueArray<double>(epilogue.ColumnBias);
        CpuParallel.For(batch * m, n, (s, e) =>
        {
            for (int row = s; row < e; row++)
            {
                int i = row % m;
                var y = c.AsSpan(offset + row * n, n);
                double sc = scale is null ? 1 : scale[epilogue.RowScale!.Offset + i];
                double sh = shift is null ? 0 : shift[epilogue.RowShift!.Offset + i];
                TensorPrimitives.Multiply(y, sc, y);
                TensorPrimitives.Add(y, sh, y);
                if (bias is not null) TensorPrimitives.Add(y, bias.AsSpan(epilogue.ColumnBias!.Offset, n), y);
                if (epilogue.Activation == GemmActivation.Relu) TensorPrimitives.Max(y, 0.0, y);
                else if (epilogue.Activation == GemmActivation.Gelu) Gelu.Forward<double>(y, y);
            }
        });
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
