namespace Hep.Autograd;

/// <summary>
/// Batch norm over axis 1 of x (B, C) or (B, C, L). Training: batch statistics (biased variance),
/// running statistics updated in place with PyTorch semantics (unbiased variance, momentum m:
/// r ← (1−m)·r + m·batch). Eval: running statistics. y = (x − μ)·invStd·γ + β via the channel-affine
/// kernel; backward through the backend's BatchNormBackward (dx, dγ, dβ).
/// </summary>
internal sealed class BatchNormFunction : Function
{
    private readonly Tensor _x, _mean, _invStd;
    private readonly Tensor? _gamma;
    private readonly bool _training;

    public BatchNormFunction(Tensor x, Tensor? gamma, Tensor mean, Tensor invStd, bool training)
    {
        _x = Save(x);
        _gamma = gamma is null ? null : Save(gamma);
        _mean = Save(mean);
        _invStd = Save(invStd);
        _training = training;
    }

    public override string Name => "BatchNorm";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        using var gc = TensorOps.Contiguous(g);
        var grads = BatchNormGradients.Allocate(_x, needs);
        _x.Backend.Norm.BatchNormBackward(_x, _mean, _invStd, _gamma, gc, _training, grads.Dx, grads.DGamma, grads.DBeta);
        return grads.Result(needs);
    }
}

public static partial class Fn
{
    /// <summary>
    /// Batch norm over axis 1. <paramref name="runningMean"/>/<paramref name="runningVar"/> (C) are read
    /// in eval mode and updated in place in training mode (when given).
    /// </summary>
    public static Variable BatchNorm(Variable x, Variable? gamma, Variable? beta, Tensor? runningMean, Tensor? runningVar,
        bool training, double momentum = 0.1, double eps = 1e-5)
    {
        if (x.Data.Rank < 2) throw new ArgumentException($"BatchNorm: input must be (B, C[, L]), got {x.Shape}");
        if ((gamma is null) != (beta is null)) throw new ArgumentException("BatchNorm: give both gamma and beta, or neither");
        var backend = TensorOps.SameBackend("BatchNorm", x.Data, gamma?.Data, beta?.Data, runningMean, runningVar);
        using var xc = TensorOps.Contiguous(x.Data);
        var (mean, invStd, scale, shift) = BatchNormCoefficients("BatchNorm", xc, gamma?.Data, beta?.Data, runningMean, runningVar, training, momentum, eps);
        using (mean)
        using (invStd)
        using (scale)
        using (shift)
        {
            var y = Tensor.Empty(backend, x.Shape, x.DType);
            backend.Norm.ChannelAffine(xc, scale, shift, y);
            var fn = new BatchNormFunction(xc, gamma?.Data, mean, invStd, training);
            return gamma is null ? Tape.Record(fn, y, x) : Tape.Record(fn, y, x, gamma, beta!);
        }
    }

    /// <summary>
    /// Batch-norm coefficients of contiguous x (B, C[, L]): training uses the batch statistics (biased
    /// variance; the running ones, when given, updated in place: r ← (1−m)·r + m·batch with the unbiased
    /// variance), eval the running statistics. Returns mean, invStd = 1/√(var + ε), scale = γ·invStd and
    /// shift = β − μ·scale (γ = 1, β = 0 when absent), all (C) and owned by the caller.
    /// </summary>
    internal static (Tensor Mean, Tensor InvStd, Tensor Scale, Tensor Shift) BatchNormCoefficients(string op, Tensor x, Tensor? gamma, Tensor? beta,
        Tensor? runningMean, Tensor? runningVar, bool training, double momentum, double eps)
    {
        var backend = x.Backend;
        int c = x.Shape[1];
        Tensor mean, variance;
        if (training)
        {
            long count = x.Numel / Math.Max(c, 1);
            if (count < 2) throw new ArgumentException($"{op}: training needs more than one value per channel, got input {x.Shape}");
            mean = Tensor.Zeros(backend, new Shape(c), x.DType);
            variance = Tensor.Zeros(backend, new Shape(c), x.DType);
            backend.Norm.ChannelMoments(x, mean, variance);
            UpdateRunningStatistics(runningMean, runningVar, mean, variance, count, momentum);
        }
        else
        {
            if (runningMean is null || runningVar is null) throw new ArgumentException($"{op}: eval mode needs running statistics");
            mean = runningMean.Alias();
            variance = runningVar.Alias();
        }
        using (variance)
        {
            using var shifted = TensorOps.AddScalar(variance, eps);
            var invStd = TensorOps.Unary(UnaryOp.Rsqrt, shifted);
            var scale = gamma is null ? invStd.Alias() : TensorOps.Mul(gamma, invStd);
            using var meanScale = TensorOps.Mul(mean, scale);
            var shift = beta is null ? TensorOps.Unary(UnaryOp.Neg, meanScale) : TensorOps.Sub(beta, meanScale);
            return (mean, invStd, scale, shift);
        }
    }

    /// <summary>r ← (1−m)·r + m·batch for the running mean and (unbiased: ×count/(count−1)) variance, when given.</summary>
    internal static void UpdateRunningStatistics(Tensor? runningMean, Tensor? runningVar, Tensor mean, Tensor variance, long count, double momentum)
    {
        if (runningMean is null || runningVar is null) return;
        TensorOps.UnaryInPlace(UnaryOp.MulScalar, runningMean, 1 - momentum);
        TensorOps.AddInPlace(runningMean, mean, momentum);
        TensorOps.UnaryInPlace(UnaryOp.MulScalar, runningVar, 1 - momentum);
        TensorOps.AddInPlace(runningVar, variance, momentum * count / (count - 1));
    }
}
