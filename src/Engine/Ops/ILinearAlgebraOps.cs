namespace Hep.Engine.Ops;

/// <summary>Dense linear algebra.</summary>
public interface ILinearAlgebraOps
{
    /// <summary>
    /// Batched GEMM: c[b] = a[b]·b[b] + beta·c[b]. a is (batch, M, K), b is (batch, K, N) with any strides
    /// (transposed views and stride-0 batch broadcast are fine); c is contiguous (batch, M, N).
    /// beta is 0 (overwrite) or 1 (accumulate).
    /// </summary>
    void MatMul(Tensor a, Tensor b, Tensor c, double beta = 0);

    /// <summary>
    /// Batched GEMM with a fused epilogue: c[b] = act((a[b]·b[b])·RowScale[m] + RowShift[m] + ColumnBias[n])
    /// (see <see cref="GemmEpilogue"/>), a and b as in <see cref="MatMul"/>, c contiguous (batch, M, N)
    /// and overwritten. The epilogue vectors are contiguous, validated by <see cref="TensorOps.MatMulEpilogue"/>.
    /// </summary>
    void MatMulEpilogue(Tensor a, Tensor b, Tensor c, GemmEpilogue epilogue);

    /// <summary>
    /// Batch-reduced GEMM: c = Σ_b a[b]·b[b] + beta·c, a (batch, M, K) and b (batch, K, N) as in
    /// <see cref="MatMul"/> (same batch count), c contiguous (M, N); beta 0 or 1. The weight gradient of
    /// a layer applied per batch item. The default forms the (batch, M, N) products and sums them over
    /// the batch; backends override it to accumulate without that temporary.
    /// </summary>
    void MatMulBatchSum(Tensor a, Tensor b, Tensor c, double beta = 0)
    {
        if (a.Rank != 3 || b.Rank != 3 || c.Rank != 2 || a.Shape[0] != b.Shape[0])
            throw new ArgumentException($"MatMulBatchSum: expects (batch, M, K)·(batch, K, N) → (M, N), got {a.Shape}·{b.Shape} → {c.Shape}");
        if (beta != 0 && beta != 1) throw new BackendNotSupportedException("MatMulBatchSum", c.Backend.Name, $"beta = {beta} (only 0 or 1)");
        using var full = Tensor.Empty(c.Backend, new Shape(a.Shape[0], c.Shape[0], c.Shape[1]), c.DType);
        MatMul(a, b, full);
        using var sum = TensorOps.Sum(full, 0);
        if (beta == 0) TensorOps.CopyInto(sum, c);
        else TensorOps.AddInPlace(c, sum);
    }
}
