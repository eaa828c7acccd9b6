namespace Hep.Autograd;

/// <summary>y = f(x; α, β) for every <see cref="UnaryOp"/>; dx = g·f'(x) via the backend's UnaryBackward kernel.</summary>
internal sealed class UnaryFunction : Function
{
    private readonly UnaryOp _op;
    private readonly Tensor _x, _y;
    private readonly double _alpha, _beta;

    public UnaryFunction(UnaryOp op, Tensor x, Tensor y, double alpha, double beta)
    {
        _op = op;
        _x = Save(x);
        _y = Save(y);
        _alpha = alpha;
        _beta = beta;
    }

    public override string Name => _op.ToString();

    public override Tensor?[] Backward(Tensor g, bool[] needs) =>
        [TensorOps.UnaryBackward(_op, _x, _y, g, _alpha, _beta)];
}

public static partial class Fn
{
    public static Variable Unary(UnaryOp op, Variable x, double alpha = 0, double beta = 0)
    {
        var y = TensorOps.Unary(op, x.Data, alpha, beta);
        return Tape.Record(new UnaryFunction(op, x.Data, y, alpha, beta), y, x);
    }

    public static Variable Relu(Variable x) => Unary(UnaryOp.Relu, x);
    public static Variable Gelu(Variable x) => Unary(UnaryOp.Gelu, x);
    public static Variable Sigmoid(Variable x) => Unary(UnaryOp.Sigmoid, x);
    public static Variable Tanh(Variable x) => Unary(UnaryOp.Tanh, x);
    public static Variable Exp(Variable x) => Unary(UnaryOp.Exp, x);
    public static Variable Log(Variable x) => Unary(UnaryOp.Log, x);
    public static Variable Neg(Variable x) => Unary(UnaryOp.Neg, x);
    public static Variable Scale(Variable x, double alpha) => Unary(UnaryOp.MulScalar, x, alpha);
    public static Variable AddScalar(Variable x, double alpha) => Unary(UnaryOp.AddScalar, x, alpha);
    public static Variable Square(Variable x) => Unary(UnaryOp.Square, x);
    public static Variable Sqrt(Variable x) => Unary(UnaryOp.Sqrt, x);
}
