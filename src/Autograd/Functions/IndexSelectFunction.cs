namespace Hep.Autograd;

/// <summary>y = x.index_select(axis, index). dx = index_add of g (duplicate indices accumulate).</summary>
internal sealed class IndexSelectFunction : Function
{
    private readonly Shape _xShape;
    private readonly int _axis;
    private readonly Tensor _index;

    public IndexSelectFunction(Shape xShape, int axis, Tensor index)
    {
        _xShape = xShape;
        _axis = axis;
        _index = Save(index);
    }

    public override string Name => "IndexSelect";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.IndexAdd(g, _axis, _index, _xShape)];
}

public static partial class Fn
{
    public static Variable IndexSelect(Variable x, int axis, Tensor index)
    {
        int a = x.Shape.NormalizeAxis(axis, "IndexSelect");
        return Tape.Record(new IndexSelectFunction(x.Shape, a, index), TensorOps.IndexSelect(x.Data, a, index), x);
    }
}
