namespace Hep.Autograd;

/// <summary>
/// Fused attention out = (softmax(q·kᵀ/√D + U + mask) ⊙ Z)·v, Z = keep / (1 − p) under attention-weight
/// dropout (Z ≡ 1 without). Saves q, k, v, U, the mask, the output and the row log-sum-exp (of the
/// undropped softmax); backward recomputes P = exp(S − lse) and regenerates Z tile by tile:
/// dV = (P ⊙ Z)ᵀ·dO, dS = P ⊙ (Z ⊙ dO·vᵀ − rowsum(dO ⊙ out)), dU = dS, dQ = dS·k/√D, dK = dSᵀ·q/√D.
/// (rowsum(dO ⊙ out) = Σ_j (P ⊙ Z)_j·(dO·v_j), the dropped weights' own Δ, so one formula serves both.)
/// </summary>
internal sealed class AttentionFunction : Function
{
    private readonly Tensor _q, _k, _v, _output, _lse;
    private readonly Tensor? _bias, _mask;
    private readonly AttentionDropout _dropout;

    public AttentionFunction(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? mask, AttentionDropout dropout, Tensor output, Tensor lse)
    {
        _q = Save(q);
        _k = Save(k);
        _v = Save(v);
        _bias = bias is null ? null : Save(bias);
        _mask = mask is null ? null : Save(mask);
        _dropout = dropout;
        _output = Save(output);
        _lse = Save(lse);
    }

    public override string Name => "Attention";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        bool needBias = _bias is not null && needs.Length > 3 && needs[3];
        var (dq, dk, dv, dBias) = TensorOps.AttentionBackward(_q, _k, _v, _bias, _mask, _dropout, _output, _lse, g, needBias);
        return _bias is null ? [dq, dk, dv] : [dq, dk, dv, dBias];
    }
}

public static partial class Fn
{
    /// <summary>
    /// Scaled dot-product attention with an optional additive pair bias and key padding mask:
    /// q (B, H, Nq, D), k and v (B, H, Nk, D), bias (B, H, Nq, Nk) or null (differentiable),
    /// keyPaddingMask (B, Nk) with 1 = valid, 0 = padded, or null → (B, H, Nq, D). A query with no
    /// valid key gets zeros. The (B, H, Nq, Nk) probabilities are never materialised.
    /// <paramref name="dropoutP"/> &gt; 0 drops attention weights after normalisation (PyTorch's
    /// attn dropout, kept weights scaled by 1/(1 − p)) with the keep mask of <see cref="AttentionDropout"/>
    /// for <paramref name="dropoutSeed"/>; pass a fresh seed per call. p = 0 is exactly the plain attention.
    /// </summary>
    public static Variable Attention(Variable q, Variable k, Variable v, Variable? bias, Tensor? keyPaddingMask,
        double dropoutP = 0, ulong dropoutSeed = 0)
    {
        RequireSameBackend("Attention", bias is null ? [q, k, v] : [q, k, v, bias]);
        var dropout = dropoutP == 0 ? AttentionDropout.None : new AttentionDropout(dropoutP, dropoutSeed);
        var output = TensorOps.Attention(q.Data, k.Data, v.Data, bias?.Data, keyPaddingMask, dropout, out var lse);
        using (lse)
        {
            var fn = new AttentionFunction(q.Data, k.Data, v.Data, bias?.Data, keyPaddingMask, dropout, output, lse);
            return bias is null ? Tape.Record(fn, output, q, k, v) : Tape.Record(fn, output, q, k, v, bias);
        }
    }
}
