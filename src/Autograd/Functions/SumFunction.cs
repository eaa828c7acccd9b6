namespace Hep.Autograd;

/// <summary>y = Σ or mean of x along one axis (keepDim optional). dx = g broadcast back (÷ n for mean).</summary>
internal sealed class SumFunction(Shape xShape, int axis, bool mean) : Function
{
    public override string Name => mean ? "Mean" : "Sum";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        using var kept = g.Rank == xShape.Rank ? g.Alias() : g.Unsqueeze(axis);
        using var expanded = kept.Expand(xShape);
        var dx = TensorOps.Contiguous(expanded, forceCopy: true);
        if (mean && xShape[axis] != 1) TensorOps.UnaryInPlace(UnaryOp.MulScalar, dx, 1.0 / xShape[axis]);
        return [dx];
    }
}

public static partial class Fn
{
    public static Variable Sum(Variable x, int axis, bool keepDim = false)
    {
        int a = x.Shape.NormalizeAxis(axis, "Sum");
        return Tape.Record(new SumFunction(x.Shape, a, mean: false), TensorOps.Sum(x.Data, a, keepDim), x);
    }

    public static Variable Mean(Variable x, int axis, bool keepDim = false)
    {
        int a = x.Shape.NormalizeAxis(axis, "Mean");
        return Tape.Record(new SumFunction(x.Shape, a, mean: true), TensorOps.Mean(x.Data, a, keepDim), x);
    }

    /// <summary>Sum of all elements (rank-0 result).</summary>
    public static Variable SumAll(Variable x)
    {
        var flat = Reshape(x, (int)x.Data.Numel);
        var s = Sum(flat, 0, keepDim: true);
        return Reshape(s);
    }

    /// <summary>Mean of all elements (rank-0 result).</summary>
    public static Variable MeanAll(Variable x) => Scale(SumAll(x), 1.0 / Math.Max(1, x.Data.Numel));
}
