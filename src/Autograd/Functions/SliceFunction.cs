namespace Hep.Autograd;

/// <summary>y = x[start : start+length] along an axis (a view). dx = zeros with g copied into that window.</summary>
internal sealed class SliceFunction(Shape xShape, int axis, int start) : Function
{
    public override string Name => "Slice";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        var dx = TensorOps.ZerosLike(g, xShape);
        using var window = dx.Slice(axis, start, g.Shape[axis]);
        TensorOps.CopyInto(g, window);
        return [dx];
    }
}

public static partial class Fn
{
    public static Variable Slice(Variable x, int axis, int start, int length)
    {
        int a = x.Shape.NormalizeAxis(axis, "Slice");
        return Tape.Record(new SliceFunction(x.Shape, a, start), x.Data.Slice(a, start, length), x);
    }
}
