using Hep.Engine.Ops;

namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>
    /// Matrix product with NumPy matmul semantics for rank ≥ 2: (…, M, K)·(…, K, N) → (…, M, N), batch
    /// dims broadcast. A rank-1 right operand (K) is treated as (K, 1) and the axis dropped.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        var backend = SameBackend("MatMul", a, b);
        var dtype = SameDType("MatMul", a, b);
        RequireFloating("MatMul", a);
        if (b.Rank == 1)
        {
            using var col = b.Unsqueeze(1);
            using var r = MatMul(a, col);
            return r.Squeeze(-1);
        }
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException($"MatMul: operands {a.Shape} and {b.Shape} need rank ≥ 2");
        int m = a.Shape[^2], k = a.Shape[^1], k2 = b.Shape[^2], n = b.Shape[^1];
        if (k != k2) throw new ArgumentException($"MatMul: inner dims differ ({a.Shape} · {b.Shape})");
        var batchA = new Shape(a.Shape.Take(a.Rank - 2).ToArray());
        var batchB = new Shape(b.Shape.Take(b.Rank - 2).ToArray());
        var batch = Shape.Broadcast(batchA, batchB, "MatMul");
        int batchCount = (int)batch.Numel;
        var outShape = new Shape([.. batch, m, n]);
        var c = Tensor.Empty(backend, outShape, dtype); // every element is written (k = 0 clears)
        using var ea = a.Expand(new Shape([.. batch, m, k]));
        using var eb = b.Expand(new Shape([.. batch, k, n]));
        using var a3 = FlattenBatch(ea, batchCount);
        using var b3 = FlattenBatch(eb, batchCount);
        using var c3 = c.View(batchCount, m, n);
        backend.LinearAlgebra.MatMul(a3, b3, c3);
        return c;
    }

    /// <summary>
    /// <see cref="MatMul"/> with a fused epilogue (one pass, no intermediate product):
    /// act((a·b)[…, m, n]·RowScale[m] + RowShift[m] + ColumnBias[n]) — the eval BatchNorm (+ ReLU) of a
    /// 1×1 conv W·X, or the bias (+ GELU / ReLU) of a linear X·Wᵀ. Same shapes and broadcasting as
    /// <see cref="MatMul"/> (rank ≥ 2 operands); RowScale/RowShift are (M), ColumnBias (N), same dtype and
    /// backend. Every backend implements it in its GEMM kernel (forward only: no gradient is defined here).
    /// </summary>
    public static Tensor MatMulEpilogue(Tensor a, Tensor b, GemmEpilogue epilogue)
    {
        const string op = "MatMulEpilogue";
        ArgumentNullException.ThrowIfNull(epilogue);
        var backend = SameBackend(op, a, b, epilogue.RowScale, epilogue.RowShift, epilogue.ColumnBias);
        var dtype = SameDType(op, a, b, epilogue.RowScale, epilogue.RowShift, epilogue.ColumnBias);
        RequireFloating(op, a);
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException($"{op}: operands {a.Shape} and {b.Shape} need rank ≥ 2");
        int m = a.Shape[^2], k = a.Shape[^1], k2 = b.Shape[^2], n = b.Shape[^1];
        if (k != k2) throw new ArgumentException($"{op}: inner dims differ ({a.Shape} · {b.Shape})");
        RequireVector(op, "RowScale", epilogue.RowScale, m);
        RequireVector(op, "RowShift", epilogue.RowShift, m);
        RequireVector(op, "ColumnBias", epilogue.ColumnBias, n);
        if (!Enum.IsDefined(epilogue.Activation)) throw new ArgumentException($"{op}: unknown activation {epilogue.Activation}");
        var batch = Shape.Broadcast(new Shape(a.Shape.Take(a.Rank - 2).ToArray()), new Shape(b.Shape.Take(b.Rank - 2).ToArray()), op);
        int batchCount = (int)batch.Numel;
        var c = Tensor.Empty(backend, new Shape([.. batch, m, n]), dtype); // every element is written
        using var ea = a.Expand(new Shape([.. batch, m, k]));
        using var eb = b.Expand(new Shape([.. batch, k, n]));
        using var a3 = FlattenBatch(ea, batchCount);
        using var b3 = FlattenBatch(eb, batchCount);
        using var c3 = c.View(batchCount, m, n);
        using var scale = ContiguousOrNull(epilogue.RowScale);
        using var shift = ContiguousOrNull(epilogue.RowShift);
        using var bias = ContiguousOrNull(epilogue.ColumnBias);
        backend.LinearAlgebra.MatMulEpilogue(a3, b3, c3, epilogue with { RowScale = scale, RowShift = shift, ColumnBias = bias });
        return c;
    }

    private static void RequireVector(string op, string name, Tensor? v, int length)
    {
        if (v is not null && (v.Rank != 1 || v.Shape[0] != length))
            throw new ArgumentException($"{op}: {name} must be a vector of {length} elements, got {v.Shape}");
    }

    private static Tensor? ContiguousOrNull(Tensor? t) => t is null ? null : Contiguous(t);

    /// <summary>
    /// Σ over the (broadcast) batch dims of a·b: (…, M, K)·(…, K, N) → (M, N), without forming the
    /// (…, M, N) products (the weight gradient of a matrix applied per batch item).
    /// </summary>
    public static Tensor MatMulBatchSum(Tensor a, Tensor b)
    {
        var backend = SameBackend("MatMulBatchSum", a, b);
        var dtype = SameDType("MatMulBatchSum", a, b);
        RequireFloating("MatMulBatchSum", a);
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException($"MatMulBatchSum: operands {a.Shape} and {b.Shape} need rank ≥ 2");
        int m = a.Shape[^2], k = a.Shape[^1], k2 = b.Shape[^2], n = b.Shape[^1];
        if (k != k2) throw new ArgumentException($"MatMulBatchSum: inner dims differ ({a.Shape} · {b.Shape})");
        var batch = Shape.Broadcast(new Shape(a.Shape.Take(a.Rank - 2).ToArray()), new Shape(b.Shape.Take(b.Rank - 2).ToArray()), "MatMulBatchSum");
        int batchCount = (int)batch.Numel;
        var c = Tensor.Empty(backend, new Shape(m, n), dtype);
        using var ea = a.Expand(new Shape([.. batch, m, k]));
        using var eb = b.Expand(new Shape([.. batch, k, n]));
        using var a3 = FlattenBatch(ea, batchCount);
        using var b3 = FlattenBatch(eb, batchCount);
        backend.LinearAlgebra.MatMulBatchSum(a3, b3, c);
        return c;
    }

    /// <summary>c += a·b for 3-D views (used to accumulate weight gradients without a temporary).</summary>
    public static void MatMulAccumulate(Tensor a, Tensor b, Tensor c)
    {
        var backend = SameBackend("MatMulAccumulate", a, b, c);
        if (a.Rank != 3 || b.Rank != 3 || c.Rank != 3 || !c.IsContiguous)
            throw new ArgumentException("MatMulAccumulate: needs 3-D operands and a contiguous destination");
        backend.LinearAlgebra.MatMul(a, b, c, beta: 1);
        c.MarkModified();
    }

    /// <summary>
    /// Views (…batch, M, K) as (batch, M, K) when the batch dims can be merged into one stride
    /// (always true for expanded or contiguous batch dims); otherwise makes the batch contiguous.
    /// </summary>
    private static Tensor FlattenBatch(Tensor x, int batchCount)
    {
        int rank = x.Rank;
        int rows = x.Shape[rank - 2], cols = x.Shape[rank - 1];
        var strides = x.Strides;
        if (rank == 2) return x.View(new Shape(1, rows, cols), [0, strides[0], strides[1]], x.Offset);
        // Try to express all batch dims with a single stride.
        int? batchStride = null;
        bool mergeable = true;
        long expect = -1;
        for (int i = rank - 3; i >= 0; i--)
        {
            if (x.Shape[i] == 1) continue;
            if (batchStride is null)
            {
                batchStride = strides[i];
                expect = (long)strides[i] * x.Shape[i];
            }
            else if (strides[i] == expect || (strides[i] == 0 && batchStride == 0))
            {
                expect = (long)strides[i] * x.Shape[i];
            }
            else
            {
                mergeable = false;
                break;
            }
        }
        if (mergeable) return x.View(new Shape(batchCount, rows, cols), [batchStride ?? 0, strides[rank - 2], strides[rank - 1]], x.Offset);
        using var dense = Contiguous(x);
        return dense.View(batchCount, rows, cols);
    }
}
