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
}
