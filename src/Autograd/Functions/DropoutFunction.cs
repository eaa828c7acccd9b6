namespace Hep.Autograd;

/// <summary>y = x ⊙ mask, mask ∈ {0, 1/(1−p)} from the counter RNG (seed, element). dx = g ⊙ mask.</summary>
internal sealed class DropoutFunction : Function
{
    private readonly Tensor _mask;

    public DropoutFunction(Tensor mask) => _mask = Save(mask);

    public override string Name => "Dropout";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.Mul(g, _mask)];
}

public static partial class Fn
{
    /// <summary>Inverted dropout with probability <paramref name="p"/>; identity when not training or p = 0.</summary>
    public static Variable Dropout(Variable x, double p, bool training, ulong seed)
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p = {p} must be in [0, 1)");
        if (!training || p == 0) return x;
        using var mask = Tensor.Zeros(x.Backend, x.Shape, x.DType);
        x.Backend.Random.DropoutMask(seed, p, mask);
        return Tape.Record(new DropoutFunction(mask), TensorOps.Mul(x.Data, mask), x);
    }
}
