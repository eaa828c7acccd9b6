using Hep.Engine.Ops;

namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>
    /// y ← a ∘ b into an existing contiguous destination (a and b broadcast to y's shape). y may be
    /// the same tensor as a or b: every backend's elementwise kernel reads an element's inputs before
    /// writing that element, so aliasing at identical positions is safe.
    /// </summary>
    public static void BinaryInto(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        string name = op + "Into";
        var backend = SameBackend(name, a, b, y);
        SameDType(name, a, b, y);
        RequireFloating(name, y);
        if (!y.IsContiguous) throw new ArgumentException($"{name}: destination must be contiguous");
        using var ea = a.Expand(y.Shape);
        using var eb = b.Expand(y.Shape);
        backend.Elementwise.Binary(op, ea, eb, y);
        y.MarkModified();
    }

    /// <summary>y ← f(y; α, β) in place on a contiguous tensor.</summary>
    public static void UnaryInPlace(UnaryOp op, Tensor y, double alpha = 0, double beta = 0)
    {
        RequireFloating(op + "InPlace", y);
        if (!y.IsContiguous) throw new ArgumentException($"{op}InPlace: tensor must be contiguous");
        y.Backend.Elementwise.Unary(op, y, y, alpha, beta);
        y.MarkModified();
    }

    /// <summary>destination ← destination + α·source (source broadcast to destination's shape).</summary>
    public static void AddInPlace(Tensor destination, Tensor source, double alpha = 1)
    {
        if (alpha == 1)
        {
            BinaryInto(BinaryOp.Add, destination, source, destination);
            return;
        }
        using var scaled = Scale(source, alpha);
        BinaryInto(BinaryOp.Add, destination, scaled, destination);
    }

    /// <summary>Sets every element of a tensor (any strides) to a value.</summary>
    public static void FillInPlace(Tensor destination, double value)
    {
        destination.ThrowIfDisposed();
        destination.Backend.Memory.Fill(destination, value);
        destination.MarkModified();
    }
}
