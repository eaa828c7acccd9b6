using Hep.Models.Nn;

namespace Hep.Models.Common;

/// <summary>
/// Scaled dot-product attention with an additive bias and a key padding mask, composed from tested
/// primitives exactly as PyTorch's MultiheadAttention math path runs it: scores = (q/√D)·kᵀ + bias,
/// −∞ on padded keys, softmax over keys, optional dropout of the weights, then ·v.
/// </summary>
internal static class AttentionOps
{
    /// <summary>
    /// q (B, H, Nq, D), k and v (B, H, Nk, D), bias (B, H, Nq, Nk) or null, keyPaddingMask (B, Nk)
    /// with 1 = valid key (null = all valid) → (B, H, Nq, D).
    /// </summary>
    public static Variable Attention(Variable q, Variable k, Variable v, Variable? bias, Tensor? keyPaddingMask, Dropout? weightDropout = null)
    {
        int d = q.Shape[^1];
        var scores = Fn.MatMul(Fn.Scale(q, 1 / Math.Sqrt(d)), Fn.Transpose(k, -1, -2));
        if (bias is not null) scores = Fn.Add(scores, bias);
        if (keyPaddingMask is not null)
        {
            int b = keyPaddingMask.Shape[0], nk = keyPaddingMask.Shape[1];
            using var valid = TensorOps.Reshape(keyPaddingMask, b, 1, 1, nk);
            using var one = Tensor.Full(valid.Backend, new Shape(), 1.0, valid.DType);
            using var padded = TensorOps.Sub(one, valid);
            using var typed = padded.DType == scores.DType ? padded.Alias() : TensorOps.Cast(padded, scores.DType);
            scores = Fn.MaskedFill(scores, typed, double.NegativeInfinity);
        }
        var weights = Fn.Softmax(scores, -1);
        if (weightDropout is not null) weights = weightDropout.Forward(weights);
        return Fn.MatMul(weights, v);
    }
}
