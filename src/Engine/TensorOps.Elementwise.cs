using Hep.Engine.Ops;

namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>y = f(x; α, β) elementwise (see <see cref="UnaryOp"/>).</summary>
    public static Tensor Unary(UnaryOp op, Tensor x, double alpha = 0, double beta = 0)
    {
        RequireFloating(op.ToString(), x);
        using var dx = Contiguous(x);
        var y = Tensor.Empty(x.Backend, x.Shape, x.DType);   // maps write every element
        x.Backend.Elementwise.Unary(op, dx, y, alpha, beta);
        return y;
    }

    /// <summary>gradX = gradY·f'(x).</summary>
    public static Tensor UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gradY, double alpha = 0, double beta = 0)
    {
        var backend = SameBackend(op + "Backward", x, y, gradY);
        using var dx = Contiguous(x);
        using var dy = Contiguous(y);
        using var dg = Contiguous(gradY);
        var gradX = Tensor.Empty(backend, x.Shape, x.DType);
        backend.Elementwise.UnaryBackward(op, dx, dy, dg, gradX, alpha, beta);
        return gradX;
    }

    /// <summary>y = a ∘ b with NumPy broadcasting.</summary>
    public static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        string name = op.ToString();
        var backend = SameBackend(name, a, b);
        var dtype = SameDType(name, a, b);
        RequireFloating(name, a);
        var shape = Shape.Broadcast(a.Shape, b.Shape, name);
        var y = Tensor.Empty(backend, shape, dtype);
        using var ea = a.Expand(shape);
        using var eb = b.Expand(shape);
        backend.Elementwise.Binary(op, ea, eb, y);
        return y;
    }

    /// <summary>y = cond ≠ 0 ? a : b with broadcasting (cond has the data dtype, e.g. a 0/1 mask).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        var backend = SameBackend("Where", condition, a, b);
        var dtype = SameDType("Where", condition, a, b);
        var shape = Shape.Broadcast(Shape.Broadcast(condition.Shape, a.Shape, "Where"), b.Shape, "Where");
        var y = Tensor.Empty(backend, shape, dtype);
        using var ec = condition.Expand(shape);
        using var ea = a.Expand(shape);
        using var eb = b.Expand(shape);
        backend.Elementwise.Where(ec, ea, eb, y);
        return y;
    }

    /// <summary>masked_fill: value where mask ≠ 0, x elsewhere.</summary>
    public static Tensor MaskedFill(Tensor x, Tensor mask, double value)
    {
        using var fill = Tensor.Full(x.Backend, new Shape(), value, x.DType);
        return Where(mask, fill, x);
    }

    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);
    public static Tensor Sub(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    public static Tensor Mul(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);
    public static Tensor Div(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);
    public static Tensor Scale(Tensor x, double alpha) => Unary(UnaryOp.MulScalar, x, alpha);
    public static Tensor AddScalar(Tensor x, double alpha) => Unary(UnaryOp.AddScalar, x, alpha);
}
