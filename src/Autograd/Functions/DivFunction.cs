namespace Hep.Autograd;

/// <summary>y = a / b (broadcasting). da = Σ_broadcast g/b, db = −Σ_broadcast g⊙y/b.</summary>
internal sealed class DivFunction : Function
{
    private readonly Tensor _b, _y;
    private readonly Shape _aShape;

    public DivFunction(Shape aShape, Tensor b, Tensor y)
    {
        _aShape = aShape;
        _b = Save(b);
        _y = Save(y);
    }

    public override string Name => "Div";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        using var gOverB = TensorOps.Div(g, _b);
        Tensor? da = needs[0] ? TensorOps.SumToShape(gOverB, _aShape) : null;
        Tensor? db = null;
        if (needs[1])
        {
            using var t = TensorOps.Mul(gOverB, _y);
            using var s = TensorOps.SumToShape(t, _b.Shape);
            db = TensorOps.Unary(UnaryOp.Neg, s);
        }
        return [da, db];
    }
}

public static partial class Fn
{
    public static Variable Div(Variable a, Variable b)
    {
        var y = TensorOps.Div(a.Data, b.Data);
        return Tape.Record(new DivFunction(a.Shape, b.Data, y), y, a, b);
    }
}
