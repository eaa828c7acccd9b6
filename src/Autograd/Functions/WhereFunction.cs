namespace Hep.Autograd;

/// <summary>y = cond ≠ 0 ? a : b (broadcasting; cond is a constant mask). da = Σ g where cond, db = Σ g elsewhere.</summary>
internal sealed class WhereFunction : Function
{
    private readonly Tensor _condition;
    private readonly Shape _aShape, _bShape;

    public WhereFunction(Tensor condition, Shape aShape, Shape bShape)
    {
        _condition = Save(condition);
        _aShape = aShape;
        _bShape = bShape;
    }

    public override string Name => "Where";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        using var zero = Tensor.Zeros(g.Backend, new Shape(), g.DType);
        Tensor? da = null, db = null;
        if (needs[0])
        {
            using var ga = TensorOps.Where(_condition, g, zero);
            da = TensorOps.SumToShape(ga, _aShape);
        }
        if (needs[1])
        {
            using var gb = TensorOps.Where(_condition, zero, g);
            db = TensorOps.SumToShape(gb, _bShape);
        }
        return [da, db];
    }
}

public static partial class Fn
{
    public static Variable Where(Tensor condition, Variable a, Variable b) =>
        Tape.Record(new WhereFunction(condition, a.Shape, b.Shape), TensorOps.Where(condition, a.Data, b.Data), a, b);

}
