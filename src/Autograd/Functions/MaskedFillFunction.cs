namespace Hep.Autograd;

/// <summary>y = mask ≠ 0 ? value : x (mask broadcast to x, constant). dx = g where mask = 0, else 0.</summary>
internal sealed class MaskedFillFunction : Function
{
    private readonly Tensor _mask;

    public MaskedFillFunction(Tensor mask) => _mask = Save(mask);

    public override string Name => "MaskedFill";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.MaskedFill(g, _mask, 0)];
}

public static partial class Fn
{
    public static Variable MaskedFill(Variable x, Tensor mask, double value)
    {
        var y = TensorOps.MaskedFill(x.Data, mask, value);
        if (y.Shape != x.Shape) throw new ArgumentException($"MaskedFill: mask {mask.Shape} must broadcast to x {x.Shape}");
        return Tape.Record(new MaskedFillFunction(mask), y, x);
    }
}
