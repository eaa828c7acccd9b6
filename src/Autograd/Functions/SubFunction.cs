namespace Hep.Autograd;

/// <summary>y = a − b (broadcasting). da = Σ_broadcast g, db = −Σ_broadcast g.</summary>
internal sealed class SubFunction(Shape aShape, Shape bShape) : Function
{
    public override string Name => "Sub";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        Tensor? db = null;
        if (needs[1])
        {
            using var s = TensorOps.SumToShape(g, bShape);
            db = TensorOps.Unary(UnaryOp.Neg, s);
        }
        return [needs[0] ? TensorOps.SumToShape(g, aShape) : null, db];
    }
}

public static partial class Fn
{
    public static Variable Sub(Variable a, Variable b) =>
        Tape.Record(new SubFunction(a.Shape, b.Shape), TensorOps.Sub(a.Data, b.Data), a, b);
}
