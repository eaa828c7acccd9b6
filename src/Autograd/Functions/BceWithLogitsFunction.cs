namespace Hep.Autograd;

/// <summary>
/// Mean binary cross-entropy on logits: L = mean(softplus(z) − z·y), computed stably.
/// dz = g·(σ(z) − y)/N.
/// </summary>
internal sealed class BceWithLogitsFunction : Function
{
    private readonly Tensor _logits, _target;

    public BceWithLogitsFunction(Tensor logits, Tensor target)
    {
        _logits = Save(logits);
        _target = Save(target);
    }

    public override string Name => "BceWithLogits";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        using var p = TensorOps.Unary(UnaryOp.Sigmoid, _logits);
        using var diff = TensorOps.Sub(p, _target);
        using var scale = TensorOps.Scale(g, 1.0 / Math.Max(_logits.Numel, 1));
        return [TensorOps.Mul(diff, scale)];
    }
}

public static partial class Fn
{
    public static Variable BceWithLogits(Variable logits, Tensor target)
    {
        if (target.Shape != logits.Shape) throw new ArgumentException($"BceWithLogits: target {target.Shape} must match logits {logits.Shape}");
        using var sp = TensorOps.Unary(UnaryOp.Softplus, logits.Data);
        using var zy = TensorOps.Mul(logits.Data, target);
        using var per = TensorOps.Sub(sp, zy);
        using var total = TensorOps.SumAll(per);
        var loss = TensorOps.Scale(total, 1.0 / Math.Max(logits.Data.Numel, 1));
        return Tape.Record(new BceWithLogitsFunction(logits.Data, target), loss, logits);
    }
}
