namespace Hep.Autograd;

/// <summary>y = a + b (broadcasting). da = Σ_broadcast g, db = Σ_broadcast g.</summary>
internal sealed class AddFunction(Shape aShape, Shape bShape) : Function
{
    public override string Name => "Add";

    public override Tensor?[] Backward(Tensor g, bool[] needs) =>
        [needs[0] ? TensorOps.SumToShape(g, aShape) : null, needs[1] ? TensorOps.SumToShape(g, bShape) : null];
}

public static partial class Fn
{
    public static Variable Add(Variable a, Variable b) =>
        Tape.Record(new AddFunction(a.Shape, b.Shape), TensorOps.Add(a.Data, b.Data), a, b);
}
