namespace Hep.Engine.Ops;

/// <summary>Row-wise softmax and the normalisation layers. All tensors contiguous.</summary>
public interface INormOps
{
    /// <summary>Softmax (or log-softmax) over the last axis of x (rows, n). A row of all −∞ gives zeros (softmax) and −∞ (log).</summary>
    void SoftmaxForward(Tensor x, Tensor y, bool log);

    /// <summary>Softmax: gradX = y ⊙ (g − Σ g⊙y). Log-softmax: gradX = g − eʸ·Σ g.</summary>
    void SoftmaxBackward(Tensor y, Tensor gradY, Tensor gradX, bool log);

    /// <summary>Layer norm over the last axis: y = (x − μ)·rstd·γ + β. Writes per-row mean and rstd (rows).</summary>
    void LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, double eps, Tensor y, Tensor mean, Tensor rstd);

    /// <summary>Layer-norm gradients; gradGamma/gradBeta (if given) are accumulated into.</summary>
    void LayerNormBackward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gradY, Tensor gradX, Tensor? gradGamma, Tensor? gradBeta);

    /// <summary>Per-channel mean and biased variance of x viewed as (B, C, L).</summary>
    void ChannelMoments(Tensor x, Tensor mean, Tensor variance);

    /// <summary>y[b,c,l] = x[b,c,l]·scale[c] + shift[c] for x viewed as (B, C, L).</summary>
    void ChannelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y);

    /// <summary>
    /// Batch-norm backward for x (B, C, L) normalised with per-channel mean and invStd.
    /// Training: gradX = γ·invStd·(g − mean(g) − x̂·mean(g⊙x̂)); eval: gradX = γ·invStd·g.
    /// gradGamma += Σ g⊙x̂, gradBeta += Σ g (when given).
    /// </summary>
    void BatchNormBackward(Tensor x, Tensor mean, Tensor invStd, Tensor? gamma, Tensor gradY, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta);

    /// <summary>
    /// Fused batch-norm apply + ReLU for x viewed as (B, C, L): r = max(x·scale[c] + shift[c], 0) (multiply,
    /// then add, as <see cref="ChannelAffine"/>). group = 1: y (B, C, L) = r. group &gt; 1 (must divide L):
    /// y (B, C, L/group) holds the mean of each consecutive group of r (EdgeConv's mean over k neighbours).
    /// Every element of y is written.
    /// </summary>
    void ChannelAffineRelu(Tensor x, Tensor scale, Tensor shift, int group, Tensor y);

    /// <summary>
    /// Training forward of fused batch norm + ReLU in one sweep over the channels: the statistics of
    /// <see cref="ChannelMoments"/> (mean, biased variance), invStd = 1/√(var + ε), scale = γ·invStd,
    /// shift = β − μ·scale (γ, β optional: 1 and 0), then <see cref="ChannelAffineRelu"/> with the given
    /// group, all per channel so each channel is applied while still in cache. Writes every element of y
    /// and of the five (C) outputs.
    /// </summary>
    void BatchNormReluForward(Tensor x, Tensor? gamma, Tensor? beta, double eps, int group, Tensor y,
        Tensor mean, Tensor variance, Tensor invStd, Tensor scale, Tensor shift);

    /// <summary>
    /// Backward of batch norm followed by <see cref="ChannelAffineRelu"/>: x (B, C, L) is the batch norm's
    /// input, scale = γ·invStd and shift = β − μ·scale the forward's. The ReLU mask is recomputed from x;
    /// gm = mask ⊙ g (group = 1, g (B, C, L)) or mask ⊙ g[…, l/group]/group (g (B, C, L/group)). Then as
    /// <see cref="BatchNormBackward"/> on gm: training gradX = scale·(gm − mean(gm) − x̂·mean(gm⊙x̂)),
    /// eval gradX = scale·gm; gradGamma += Σ gm⊙x̂, gradBeta += Σ gm (when given). gradX is fully written.
    /// </summary>
    void BatchNormReluBackward(Tensor x, Tensor mean, Tensor invStd, Tensor scale, Tensor shift, Tensor gradY, int group, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta);
}
