namespace Hep.Autograd;

/// <summary>
/// y = a·b with NumPy matmul semantics (batch dims broadcast). da = g·bᵀ, db = aᵀ·g, each summed
/// over the batch dims it was broadcast along. Transposes are stride views (no copies). A rank-2
/// operand broadcast over batch dims (a shared weight) gets its gradient from one batch-reduced GEMM
/// (<see cref="TensorOps.MatMulBatchSum"/>) instead of per-item products and a sum.
/// </summary>
internal sealed class MatMulFunction : Function
{
    private readonly Tensor _a, _b;

    public MatMulFunction(Tensor a, Tensor b)
    {
        _a = Save(a);
        _b = Save(b);
    }

    public override string Name => "MatMul";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        Tensor? da = null, db = null;
        if (needs[0])
        {
            using var bt = _b.Transpose(-1, -2);
            da = ProductToShape(g, bt, _a.Shape, g.Rank);
        }
        if (needs[1])
        {
            using var at = _a.Transpose(-1, -2);
            db = ProductToShape(at, g, _b.Shape, g.Rank);
        }
        return [da, db];
    }

    // left·right summed over the batch dims of an operand of `shape`: one batch-reduced GEMM when the operand
    // is a rank-2 matrix broadcast over the gradient's batch dims, else the batched product and a sum.
    private static Tensor ProductToShape(Tensor left, Tensor right, Shape shape, int gradRank)
    {
        if (shape.Rank == 2 && gradRank > 2) return TensorOps.MatMulBatchSum(left, right);
        using var full = TensorOps.MatMul(left, right);
        return TensorOps.SumToShape(full, shape);
    }
}

public static partial class Fn
{
    /// <summary>Matrix product of rank ≥ 2 operands.</summary>
    public static Variable MatMul(Variable a, Variable b)
    {
        if (a.Data.Rank < 2 || b.Data.Rank < 2) throw new ArgumentException($"MatMul: differentiable matmul needs rank ≥ 2 operands, got {a.Shape}·{b.Shape}");
        return Tape.Record(new MatMulFunction(a.Data, b.Data), TensorOps.MatMul(a.Data, b.Data), a, b);
    }
}
