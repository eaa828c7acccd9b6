namespace Hep.Engine.Ops;

/// <summary>
/// Attention kernels: masked row softmax and fused scaled-dot-product attention with an additive
/// pair bias and a key padding mask. All tensors contiguous unless stated; destinations preallocated.
/// </summary>
public interface IAttentionOps
{
    /// <summary>
    /// y = softmax(x + mask) over the last axis. mask (null = none) is a view of x's shape (broadcast
    /// axes have stride 0; the last axis has stride 1 or 0) holding 0 or −∞. A row whose every entry
    /// is −∞ gives zeros, never NaN; the max is subtracted first, so large inputs stay finite.
    /// </summary>
    void MaskedSoftmaxForward(Tensor x, Tensor? mask, Tensor y);

    /// <summary>gradX = y ⊙ (gradY − Σ gradY ⊙ y) per row (masked entries have y = 0 and get 0).</summary>
    void MaskedSoftmaxBackward(Tensor y, Tensor gradY, Tensor gradX);

    /// <summary>
    /// output (B, H, Nq, D) = softmax(scale·q·kᵀ + bias + mask)·v for q (B, H, Nq, D), k and v
    /// (B, H, Nk, D), bias (B, H, Nq, Nk) or null, keyPaddingMask (B, Nk) with 1 = valid, 0 = padded
    /// (padded keys get −∞), or null. logSumExp (B, H, Nq) receives each row's log Σ exp of the
    /// logits (−∞ for a fully masked row, whose output is zero). The (Nq, Nk) probabilities are not stored.
    /// With an active <paramref name="dropout"/> the normalised weights are multiplied by its keep mask / (1 − p)
    /// before ·v (logSumExp stays that of the undropped softmax). Every element of output and logSumExp is overwritten.
    /// </summary>
    void AttentionForward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp);

    /// <summary>
    /// Gradients of AttentionForward from its saved output and logSumExp (probabilities recomputed):
    /// dV = Pᵀ·dO, dS = P ⊙ (dO·vᵀ − rowsum(dO ⊙ O)), dBias = dS, dQ = scale·dS·k, dK = scale·dSᵀ·q.
    /// gradBias may be null (no bias, or not needed). All gradient destinations are overwritten.
    /// With dropout (Z = keep / (1 − p), regenerated): dV = (P ⊙ Z)ᵀ·dO, dS = P ⊙ (Z ⊙ dO·vᵀ − rowsum(dO ⊙ O)).
    /// </summary>
    void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV, Tensor? gradBias);
}

/// <summary>The default <see cref="IBackend.Attention"/> of a backend without attention kernels: every op throws naming itself.</summary>
internal sealed class UnsupportedAttentionOps(string backend) : IAttentionOps
{
    private NotSupportedException Fail(string op) => new BackendNotSupportedException(op, backend, "not implemented on this backend");

    public void MaskedSoftmaxForward(Tensor x, Tensor? mask, Tensor y) => throw Fail(nameof(MaskedSoftmaxForward));
    public void MaskedSoftmaxBackward(Tensor y, Tensor gradY, Tensor gradX) => throw Fail(nameof(MaskedSoftmaxBackward));

    public void AttentionForward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp) => throw Fail(nameof(AttentionForward));

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV, Tensor? gradBias) =>
        throw Fail(nameof(AttentionBackward));
}
