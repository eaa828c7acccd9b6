namespace Hep.Autograd;

/// <summary>y = torch.gather(x, axis, index). dx = scatter_add of g at index (duplicates accumulate).</summary>
internal sealed class GatherFunction : Function
{
    private readonly Shape _xShape;
    private readonly int _axis;
    private readonly Tensor _index;

    public GatherFunction(Shape xShape, int axis, Tensor index)
    {
        _xShape = xShape;
        _axis = axis;
        _index = Save(index);
    }

    public override string Name => "Gather";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.ScatterAdd(g, _axis, _index, _xShape)];
}

public static partial class Fn
{
    public static Variable Gather(Variable x, int axis, Tensor index)
    {
        int a = x.Shape.NormalizeAxis(axis, "Gather");
        return Tape.Record(new GatherFunction(x.Shape, a, index), TensorOps.Gather(x.Data, a, index), x);
    }
}
