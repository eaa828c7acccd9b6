namespace Hep.Autograd;

/// <summary>y = x reshaped (a view when contiguous). dx = g reshaped back.</summary>
internal sealed class ReshapeFunction(Shape xShape) : Function
{
    public override string Name => "Reshape";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.Reshape(g, xShape.ToArray())];
}

public static partial class Fn
{
    /// <summary>Reshape (one dim may be −1; no dims gives a scalar).</summary>
    public static Variable Reshape(Variable x, params int[] shape) =>
        Tape.Record(new ReshapeFunction(x.Shape), TensorOps.Reshape(x.Data, shape), x);

    public static Variable Unsqueeze(Variable x, int axis)
    {
        using var v = x.Data.Unsqueeze(axis);
        return Reshape(x, v.Shape.ToArray());
    }

    public static Variable Squeeze(Variable x, int axis)
    {
        using var v = x.Data.Squeeze(axis);
        return Reshape(x, v.Shape.ToArray());
    }

    /// <summary>Flattens dims [start, end] into one.</summary>
    public static Variable Flatten(Variable x, int start = 1)
    {
        var dims = x.Shape.Take(start).ToList();
        dims.Add(-1);
        return Reshape(x, [.. dims]);
    }
}
