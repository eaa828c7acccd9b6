namespace Hep.Autograd;

/// <summary>
/// Mean cross-entropy of logits (N, C) against a target distribution q (N, C):
/// L = −(1/N) Σₙ Σ_c q_nc·log softmax(z)_nc, with q = (1−ε)·onehot + ε/C for integer labels and
/// label smoothing ε. Fused: forward keeps log-probabilities; dz = g·(softmax(z)·Σ_c q − q)/N.
/// </summary>
internal sealed class CrossEntropyFunction : Function
{
    private readonly Tensor _logProb, _target;

    public CrossEntropyFunction(Tensor logProb, Tensor target)
    {
        _logProb = Save(logProb);
        _target = Save(target);
    }

    public override string Name => "CrossEntropy";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        int n = _logProb.Shape[0];
        // dz = p·Σ_c q − q (Σ_c q = 1 for a proper distribution, but soft targets need not be normalised).
        using var prob = TensorOps.Unary(UnaryOp.Exp, _logProb);
        using var mass = TensorOps.Sum(_target, -1, keepDim: true);
        using var scaled = TensorOps.Mul(prob, mass);
        using var diff = TensorOps.Sub(scaled, _target);
        using var scale = TensorOps.Scale(g, 1.0 / Math.Max(n, 1));
        return [TensorOps.Mul(diff, scale)];
    }
}

public static partial class Fn
{
    /// <summary>Cross-entropy with integer class labels (N) and optional label smoothing.</summary>
    public static Variable CrossEntropy(Variable logits, Tensor labels, double labelSmoothing = 0)
    {
        if (logits.Data.Rank != 2) throw new ArgumentException($"CrossEntropy: logits must be (N, C), got {logits.Shape}");
        if (labels.Rank != 1 || labels.Shape[0] != logits.Shape[0])
            throw new ArgumentException($"CrossEntropy: labels {labels.Shape} must be ({logits.Shape[0]})");
        int classes = logits.Shape[1];
        using var oneHot = TensorOps.OneHot(labels, classes, logits.DType);
        if (labelSmoothing == 0) return CrossEntropySoft(logits, oneHot);
        using var scaled = TensorOps.Scale(oneHot, 1 - labelSmoothing);
        using var smooth = TensorOps.AddScalar(scaled, labelSmoothing / classes);
        return CrossEntropySoft(logits, smooth);
    }

    /// <summary>Cross-entropy against a target distribution (N, C) (e.g. one-hot label branches).</summary>
    public static Variable CrossEntropySoft(Variable logits, Tensor target)
    {
        if (target.Shape != logits.Shape) throw new ArgumentException($"CrossEntropy: target {target.Shape} must match logits {logits.Shape}");
        int n = logits.Shape[0];
        var logProb = TensorOps.Softmax(logits.Data, -1, log: true);
        using var prod = TensorOps.Mul(logProb, target);
        using var total = TensorOps.SumAll(prod);
        var loss = TensorOps.Scale(total, -1.0 / Math.Max(n, 1));
        var fn = new CrossEntropyFunction(logProb, target);
        logProb.Dispose();
        return Tape.Record(fn, loss, logits);
    }
}
