namespace Hep.Autograd;

/// <summary>
/// y = max of x along an axis. dx = g at the maximising positions; ties share the gradient equally
/// (so the result is a valid subgradient and independent of scan order on every backend).
/// </summary>
internal sealed class MaxFunction : Function
{
    private readonly Tensor _x, _yKept;
    private readonly int _axis;

    public MaxFunction(Tensor x, Tensor yKept, int axis)
    {
        _x = Save(x);
        _yKept = Save(yKept);
        _axis = axis;
    }

    public override string Name => "Max";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        using var isMax = TensorOps.Binary(BinaryOp.Equal, _x, _yKept);
        using var count = TensorOps.Sum(isMax, _axis, keepDim: true);
        using var gk = g.Rank == _x.Rank ? g.Alias() : g.Unsqueeze(_axis);
        using var share = TensorOps.Div(gk, count);
        return [TensorOps.Mul(isMax, share)];
    }
}

public static partial class Fn
{
    public static Variable Max(Variable x, int axis, bool keepDim = false)
    {
        int a = x.Shape.NormalizeAxis(axis, "Max");
        var yKept = TensorOps.Max(x.Data, a, keepDim: true);
        var y = keepDim ? yKept : yKept.Squeeze(a);
        return Tape.Record(new MaxFunction(x.Data, yKept, a), y, x);
    }
}
