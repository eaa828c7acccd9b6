namespace Hep.Autograd;

/// <summary>y = softmax(x + mask) over the last axis (mask constant). dx = y ⊙ (g − Σ g ⊙ y).</summary>
internal sealed class MaskedSoftmaxFunction : Function
{
    private readonly Tensor _y;

    public MaskedSoftmaxFunction(Tensor y) => _y = Save(y);

    public override string Name => "MaskedSoftmax";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.MaskedSoftmaxBackward(_y, g)];
}

public static partial class Fn
{
    /// <summary>
    /// Softmax over the last axis of x + additiveMask (broadcast to x; −∞ on masked entries, or null).
    /// A fully masked row gives zeros, never NaN.
    /// </summary>
    public static Variable MaskedSoftmax(Variable x, Tensor? additiveMask)
    {
        var y = TensorOps.MaskedSoftmax(x.Data, additiveMask);
        return Tape.Record(new MaskedSoftmaxFunction(y), y, x);
    }
}
