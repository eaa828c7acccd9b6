namespace Hep.Engine.Ops;

/// <summary>Unary maps (some with scalar parameters α, β). Semantics of y = f(x):</summary>
public enum UnaryOp
{
    Identity,
    Neg,
    Exp,
    /// <summary>Natural log.</summary>
    Log,
    Sqrt,
    /// <summary>1/√x.</summary>
    Rsqrt,
    Abs,
    Relu,
    /// <summary>Exact GELU: x·Φ(x) = ½x(1 + erf(x/√2)).</summary>
    Gelu,
    Sigmoid,
    Tanh,
    /// <summary>log(1 + eˣ), computed stably.</summary>
    Softplus,
    /// <summary>x + α.</summary>
    AddScalar,
    /// <summary>α·x.</summary>
    MulScalar,
    /// <summary>xᵅ.</summary>
    PowScalar,
    /// <summary>min(max(x, α), β).</summary>
    Clamp,
    /// <summary>1/x.</summary>
    Reciprocal,
    Square,
}

/// <summary>Binary maps with broadcasting. Comparisons return 1 or 0 in the input dtype.</summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    /// <summary>aᵇ.</summary>
    Pow,
    Greater,
    Less,
    Equal,
}

/// <summary>Elementwise kernels (float dtypes). Inputs may be strided/broadcast views; outputs are contiguous.</summary>
public interface IElementwiseOps
{
    /// <summary>y = f(x; α, β); x and y have the same shape. Writes every element (the destination may be uninitialized).</summary>
    void Unary(UnaryOp op, Tensor x, Tensor y, double alpha = 0, double beta = 0);

    /// <summary>gradX = gradY · f'(x) (uses x and/or y = f(x) as each op needs). Writes every element (the destination may be uninitialized).</summary>
    void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gradY, Tensor gradX, double alpha = 0, double beta = 0);

    /// <summary>y = a ∘ b; a and b are views already expanded to y's shape (stride 0 on broadcast axes). Writes every element (the destination may be uninitialized).</summary>
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);

    /// <summary>y = cond ≠ 0 ? a : b; all three expanded to y's shape; cond has y's dtype. Writes every element (the destination may be uninitialized).</summary>
    void Where(Tensor condition, Tensor a, Tensor b, Tensor y);
}
