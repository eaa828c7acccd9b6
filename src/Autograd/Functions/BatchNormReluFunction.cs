namespace Hep.Autograd;

/// <summary>
/// Fused batch norm → ReLU (→ mean over the last axis) over axis 1 of x (B, C, …): the
/// [conv → BatchNorm → ReLU] layers of ParticleNet without the intermediate tensors. Forward: the
/// statistics of <see cref="Fn.BatchNorm"/> (same running-statistics update) and, channel by channel
/// while the channel is in cache, r = max(x·scale + shift, 0) with scale = γ·invStd, shift = β − μ·scale; with meanLastAxis the output
/// is the mean of r over x's last axis (EdgeConv's mean over the k neighbours) and r is never stored.
/// Saves only x (the batch norm's input) and the per-channel coefficients: backward recomputes the ReLU
/// mask from x and runs the batch-norm backward on the masked gradient in the backend's
/// BatchNormReluBackward (dx, dγ, dβ). The composed BatchNorm → ReLU (→ Mean) keeps the batch norm's input
/// and output (plus the ReLU output) alive for backward instead.
/// </summary>
internal sealed class BatchNormReluFunction : Function
{
    private readonly Tensor _x, _mean, _invStd, _scale, _shift;
    private readonly int _group;
    private readonly bool _training;

    public BatchNormReluFunction(Tensor x, Tensor mean, Tensor invStd, Tensor scale, Tensor shift, int group, bool training)
    {
        _x = Save(x);
        _mean = Save(mean);
        _invStd = Save(invStd);
        _scale = Save(scale);
        _shift = Save(shift);
        _group = group;
        _training = training;
    }

    public override string Name => "BatchNormRelu";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        using var gc = TensorOps.Contiguous(g);
        var grads = BatchNormGradients.Allocate(_x, needs);
        _x.Backend.Norm.BatchNormReluBackward(_x, _mean, _invStd, _scale, _shift, gc, _group, _training, grads.Dx, grads.DGamma, grads.DBeta);
        return grads.Result(needs);
    }
}

public static partial class Fn
{
    /// <summary>
    /// ReLU(BatchNorm(x)) over axis 1 of x (B, C[, …]) in one op — equal to <see cref="Relu"/> of
    /// <see cref="BatchNorm"/> (same statistics, running-statistics update and rounding) — or, with
    /// <paramref name="meanLastAxis"/>, <see cref="Mean"/> of that over x's last axis (x rank ≥ 3).
    /// </summary>
    public static Variable BatchNormRelu(Variable x, Variable? gamma, Variable? beta, Tensor? runningMean, Tensor? runningVar,
        bool training, double momentum = 0.1, double eps = 1e-5, bool meanLastAxis = false)
    {
        const string op = "BatchNormRelu";
        if (x.Data.Rank < 2) throw new ArgumentException($"{op}: input must be (B, C[, …]), got {x.Shape}");
        if (meanLastAxis && x.Data.Rank < 3) throw new ArgumentException($"{op}: the mean over the last axis needs (B, C, …, L) input, got {x.Shape}");
        if ((gamma is null) != (beta is null)) throw new ArgumentException($"{op}: give both gamma and beta, or neither");
        var backend = TensorOps.SameBackend(op, x.Data, gamma?.Data, beta?.Data, runningMean, runningVar);
        int group = meanLastAxis ? x.Shape[^1] : 1;
        if (group == 0) throw new ArgumentException($"{op}: the mean over an empty last axis is undefined, got {x.Shape}");
        int c = x.Shape[1];
        long count = x.Data.Numel / Math.Max(c, 1);
        if (training && count < 2) throw new ArgumentException($"{op}: training needs more than one value per channel, got input {x.Shape}");
        if (!training && (runningMean is null || runningVar is null)) throw new ArgumentException($"{op}: eval mode needs running statistics");
        using var xc = TensorOps.Contiguous(x.Data);
        var outShape = meanLastAxis ? new Shape(x.Shape.ToArray()[..^1]) : x.Shape;
        var y = Tensor.Empty(backend, outShape, x.DType);
        Tensor mean, invStd, scale, shift;
        if (training)
        {
            // Statistics, coefficients and the apply in one sweep over the channels (x read once).
            var perChannel = new Shape(c);
            mean = Tensor.Empty(backend, perChannel, x.DType);
            invStd = Tensor.Empty(backend, perChannel, x.DType);
            scale = Tensor.Empty(backend, perChannel, x.DType);
            shift = Tensor.Empty(backend, perChannel, x.DType);
            using var variance = Tensor.Empty(backend, perChannel, x.DType);
            backend.Norm.BatchNormReluForward(xc, gamma?.Data, beta?.Data, eps, group, y, mean, variance, invStd, scale, shift);
            UpdateRunningStatistics(runningMean, runningVar, mean, variance, count, momentum);
        }
        else
        {
            (mean, invStd, scale, shift) = BatchNormCoefficients(op, xc, gamma?.Data, beta?.Data, runningMean, runningVar, training, momentum, eps);
            backend.Norm.ChannelAffineRelu(xc, scale, shift, group, y);
        }
        using (mean)
        using (invStd)
        using (scale)
        using (shift)
        {
            var fn = new BatchNormReluFunction(xc, mean, invStd, scale, shift, group, training);
            return gamma is null ? Tape.Record(fn, y, x) : Tape.Record(fn, y, x, gamma, beta!);
        }
    }
}
