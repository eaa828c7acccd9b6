namespace Hep.Autograd;

/// <summary>y = a ⊙ b (broadcasting). da = Σ_broadcast g⊙b, db = Σ_broadcast g⊙a.</summary>
internal sealed class MulFunction : Function
{
    private readonly Tensor _a, _b;

    public MulFunction(Tensor a, Tensor b)
    {
        _a = Save(a);
        _b = Save(b);
    }

    public override string Name => "Mul";

    public override Tensor?[] Backward(Tensor g, bool[] needs) =>
        [needs[0] ? Reduced(g, _b, _a.Shape) : null, needs[1] ? Reduced(g, _a, _b.Shape) : null];

    private static Tensor Reduced(Tensor g, Tensor other, Shape shape)
    {
        using var p = TensorOps.Mul(g, other);
        return TensorOps.SumToShape(p, shape);
    }
}

public static partial class Fn
{
    public static Variable Mul(Variable a, Variable b) =>
        Tape.Record(new MulFunction(a.Data, b.Data), TensorOps.Mul(a.Data, b.Data), a, b);
}
