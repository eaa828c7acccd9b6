namespace Hep.Autograd;

/// <summary>
/// Fused attention out = softmax(q·kᵀ/√D + U + mask)·v. Saves q, k, v, U, the mask, the output and
/// the row log-sum-exp; backward recomputes P = exp(S − lse) tile by tile:
/// dV = Pᵀ·dO, dS = P ⊙ (dO·vᵀ − rowsum(dO ⊙ out)), dU = dS, dQ = dS·k/√D, dK = dSᵀ·q/√D.
/// </summary>
internal sealed class AttentionFunction : Function
{
    private readonly Tensor _q, _k, _v, _output, _lse;
    private readonly Tensor? _bias, _mask;

    public AttentionFunction(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? mask, Tensor output, Tensor lse)
    {
        _q = Save(q);
        _k = Save(k);
        _v = Save(v);
        _bias = bias is null ? null : Save(bias);
        _mask = mask is null ? null : Save(mask);
        _output = Save(output);
        _lse = Save(lse);
    }

    public override string Name => "Attention";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        bool needBias = _bias is not null && needs.Length > 3 && needs[3];
        var (dq, dk, dv, dBias) = TensorOps.AttentionBackward(_q, _k, _v, _bias, _mask, _output, _lse, g, needBias);
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
    /// </summary>
    public static Variable Attention(Variable q, Variable k, Variable v, Variable? bias, Tensor? keyPaddingMask)
    {
        RequireSameBackend("Attention", bias is null ? [q, k, v] : [q, k, v, bias]);
        var output = TensorOps.Attention(q.Data, k.Data, v.Data, bias?.Data, keyPaddingMask, out var lse);
        using (lse)
        {
            var fn = new AttentionFunction(q.Data, k.Data, v.Data, bias?.Data, keyPaddingMask, output, lse);
            return bias is null ? Tape.Record(fn, output, q, k, v) : Tape.Record(fn, output, q, k, v, bias);
        }
    }
}
