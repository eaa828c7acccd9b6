namespace Hep.Models.Nn;

/// <summary>
/// Batch norm over axis 1 of (B, C) or (B, C, L) inputs (PyTorch BatchNorm1d/2d semantics: biased
/// batch variance for normalising, unbiased for the running estimate, momentum 0.1, ε = 1e−5).
/// </summary>
public sealed class BatchNorm : Module
{
    public BatchNorm(IBackend backend, int channels, double momentum = 0.1, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32)
    {
        Momentum = momentum;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Full(backend, new Shape(channels), 1.0, dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros(backend, new Shape(channels), dtype));
        }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(backend, new Shape(channels), dtype));
        RunningVar = RegisterBuffer("running_var", Tensor.Full(backend, new Shape(channels), 1.0, dtype));
    }

    public double Momentum { get; }
    public double Eps { get; }
    public Variable? Weight { get; }
    public Variable? Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    /// <summary>
    /// The eval-mode normalisation as a per-channel affine map y = x·Scale + Shift from the running
    /// statistics: Scale = γ/√(running_var + ε), Shift = β − running_mean·Scale, computed with tensor ops in
    /// <paramref name="dtype"/> (default: the module's; the same ops and rounding as <see cref="Fn.BatchNorm"/>
    /// in eval), the statistics and parameters cast to it first. For fusing into a producer (a GEMM epilogue,
    /// or ParT's pair embedding, which folds in float64); owned by the caller.
    /// </summary>
    public (Tensor Scale, Tensor Shift) EvalAffine(DType? dtype = null)
    {
        var type = dtype ?? RunningVar.DType;
        using var mean = As(RunningMean, type);
        using var variance = As(RunningVar, type);
        using var gamma = Weight is null ? null : As(Weight.Data, type);
        using var beta = Bias is null ? null : As(Bias.Data, type);
        using var shifted = TensorOps.AddScalar(variance, Eps);
        using var invStd = TensorOps.Unary(UnaryOp.Rsqrt, shifted);
        var scale = gamma is null ? invStd.Alias() : TensorOps.Mul(gamma, invStd);
        using var meanScale = TensorOps.Mul(mean, scale);
        var shift = beta is null ? TensorOps.Unary(UnaryOp.Neg, meanScale) : TensorOps.Sub(beta, meanScale);
        return (scale, shift);
    }

    private static Tensor As(Tensor t, DType dtype) => t.DType == dtype ? t.Alias() : TensorOps.Cast(t, dtype);

    public Variable Forward(Variable x) => Fn.BatchNorm(x, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps);

    /// <summary>
    /// ReLU(Forward(x)) as one fused op (<see cref="Fn.BatchNormRelu"/>: one tensor saved for backward
    /// instead of three); with <paramref name="meanLastAxis"/>, its mean over x's last axis.
    /// </summary>
    public Variable ForwardRelu(Variable x, bool meanLastAxis = false) =>
        Fn.BatchNormRelu(x, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps, meanLastAxis);
}
