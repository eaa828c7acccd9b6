using Hep.Engine.Ops;

namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>
    /// softmax(x + additiveMask) over the last axis. The mask (null = none) broadcasts to x and holds 0
    /// or −∞ on masked entries; a fully masked row gives zeros (never NaN) and large inputs stay finite.
    /// </summary>
    public static Tensor MaskedSoftmax(Tensor x, Tensor? additiveMask)
    {
        const string op = "MaskedSoftmax";
        var backend = SameBackend(op, x, additiveMask);
        SameDType(op, x, additiveMask);
        RequireFloating(op, x);
        if (x.Rank == 0) throw new ArgumentException($"{op}: needs at least one axis");
        if (additiveMask is not null) Shape.Broadcast(additiveMask.Shape, x.Shape, op);
        using var dx = Contiguous(x);
        using var mask = additiveMask is null ? null : ExpandMask(additiveMask, x.Shape);
        var y = Tensor.Zeros(backend, x.Shape, x.DType);
        backend.Attention.MaskedSoftmaxForward(dx, mask, y);
        return y;
    }

    /// <summary>Gradient of <see cref="MaskedSoftmax"/> from its output y: y ⊙ (gradY − Σ gradY ⊙ y) per row.</summary>
    public static Tensor MaskedSoftmaxBackward(Tensor y, Tensor gradY)
    {
        const string op = "MaskedSoftmaxBackward";
        var backend = SameBackend(op, y, gradY);
        SameDType(op, y, gradY);
        if (y.Shape != gradY.Shape) throw new ArgumentException($"{op}: y {y.Shape} and gradY {gradY.Shape} differ");
        using var dy = Contiguous(y);
        using var dg = Contiguous(gradY);
        var gradX = Tensor.Zeros(backend, y.Shape, y.DType);
        backend.Attention.MaskedSoftmaxBackward(dy, dg, gradX);
        return gradX;
    }

    /// <summary>
    /// Fused attention: softmax(q·kᵀ/√D + bias + mask)·v for q (B, H, Nq, D), k and v (B, H, Nk, D),
    /// bias (B, H, Nq, Nk) or null, keyPaddingMask (B, Nk) of q's dtype with 1 = valid, 0 = padded, or
    /// null. Returns (B, H, Nq, D); a query with no valid key gets zeros.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask)
    {
        var output = Attention(q, k, v, bias, keyPaddingMask, out var lse);
        lse.Dispose();
        return output;
    }

    /// <summary>Fused attention that also returns each query row's log-sum-exp (B, H, Nq) for the backward (−∞ for a fully masked row).</summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, out Tensor logSumExp) =>
        Attention(q, k, v, bias, keyPaddingMask, AttentionDropout.None, out logSumExp);

    /// <summary>
    /// Fused attention with dropout on the normalised attention weights (see <see cref="AttentionDropout"/>:
    /// out = (softmax(S) ⊙ keep / (1 − p))·v; logSumExp is that of the undropped softmax).
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, AttentionDropout dropout, out Tensor logSumExp)
    {
        var backend = CheckAttention(q, k, v, bias, keyPaddingMask);
        int b = q.Shape[0], h = q.Shape[1], nq = q.Shape[2], d = q.Shape[3];
        using var dq = Contiguous(q);
        using var dk = Contiguous(k);
        using var dv = Contiguous(v);
        using var db = bias is null ? null : Contiguous(bias);
        using var dm = keyPaddingMask is null ? null : Contiguous(keyPaddingMask);
        // The backend overwrites every output and log-sum-exp element (IAttentionOps contract): no clearing pass.
        var output = Tensor.Empty(backend, new Shape(b, h, nq, d), q.DType);
        logSumExp = Tensor.Empty(backend, new Shape(b, h, nq), q.DType);
        backend.Attention.AttentionForward(dq, dk, dv, db, dm, AttentionScale(d), dropout, output, logSumExp);
        return output;
    }

    /// <summary>
    /// Gradients of <see cref="Attention(Tensor, Tensor, Tensor, Tensor?, Tensor?, out Tensor)"/> given its
    /// output and log-sum-exp; probabilities are recomputed. GradBias is null unless <paramref name="needBias"/>.
    /// </summary>
    public static (Tensor GradQ, Tensor GradK, Tensor GradV, Tensor? GradBias) AttentionBackward(Tensor q, Tensor k, Tensor v,
        Tensor? bias, Tensor? keyPaddingMask, Tensor output, Tensor logSumExp, Tensor gradOutput, bool needBias) =>
        AttentionBackward(q, k, v, bias, keyPaddingMask, AttentionDropout.None, output, logSumExp, gradOutput, needBias);

    /// <summary>
    /// Gradients of the fused attention run with <paramref name="dropout"/> (the same p and seed as the
    /// forward, whose keep mask is regenerated).
    /// </summary>
    public static (Tensor GradQ, Tensor GradK, Tensor GradV, Tensor? GradBias) AttentionBackward(Tensor q, Tensor k, Tensor v,
        Tensor? bias, Tensor? keyPaddingMask, AttentionDropout dropout, Tensor output, Tensor logSumExp, Tensor gradOutput, bool needBias)
    {
        const string op = "AttentionBackward";
        var backend = CheckAttention(q, k, v, bias, keyPaddingMask);
        SameBackend(op, q, output, logSumExp, gradOutput);
        if (output.Shape != q.Shape || gradOutput.Shape != q.Shape)
            throw new ArgumentException($"{op}: output {output.Shape} and gradOutput {gradOutput.Shape} must match q {q.Shape}");
        if (needBias && bias is null) throw new ArgumentException($"{op}: a bias gradient was requested without a bias");
        int b = q.Shape[0], h = q.Shape[1], nq = q.Shape[2], nk = k.Shape[2];
        using var dq = Contiguous(q);
        using var dk = Contiguous(k);
        using var dv = Contiguous(v);
        using var db = bias is null ? null : Contiguous(bias);
        using var dm = keyPaddingMask is null ? null : Contiguous(keyPaddingMask);
        using var dout = Contiguous(output);
        using var dlse = Contiguous(logSumExp);
        using var dg = Contiguous(gradOutput);
        // The backend overwrites every gradient element (IAttentionOps contract): no clearing pass.
        var gq = Tensor.Empty(backend, q.Shape, q.DType);
        var gk = Tensor.Empty(backend, k.Shape, q.DType);
        var gv = Tensor.Empty(backend, v.Shape, q.DType);
        var gb = needBias ? Tensor.Empty(backend, new Shape(b, h, nq, nk), q.DType) : null;
        backend.Attention.AttentionBackward(dq, dk, dv, db, dm, AttentionScale(q.Shape[3]), dropout, dout, dlse, dg, gq, gk, gv, gb);
        return (gq, gk, gv, gb);
    }

    /// <summary>The softmax temperature 1/√D of scaled dot-product attention.</summary>
    public static double AttentionScale(int headDim) => 1.0 / Math.Sqrt(headDim);

    private static IBackend CheckAttention(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask)
    {
        const string op = "Attention";
        var backend = SameBackend(op, q, k, v, bias, keyPaddingMask);
        SameDType(op, q, k, v, bias, keyPaddingMask);
        RequireFloating(op, q);
        if (q.Rank != 4 || k.Rank != 4 || v.Rank != 4)
            throw new ArgumentException($"{op}: q, k, v must be (B, H, N, D), got {q.Shape}, {k.Shape}, {v.Shape}");
        int b = q.Shape[0], h = q.Shape[1], nq = q.Shape[2], d = q.Shape[3], nk = k.Shape[2];
        if (k.Shape != new Shape(b, h, nk, d) || v.Shape != k.Shape)
            throw new ArgumentException($"{op}: k {k.Shape} and v {v.Shape} must be (B, H, Nk, D) = ({b}, {h}, Nk, {d})");
        if (bias is not null && bias.Shape != new Shape(b, h, nq, nk))
            throw new ArgumentException($"{op}: bias must be (B, H, Nq, Nk) = ({b}, {h}, {nq}, {nk}), got {bias.Shape}");
        if (keyPaddingMask is not null && keyPaddingMask.Shape != new Shape(b, nk))
            throw new ArgumentException($"{op}: keyPaddingMask must be (B, Nk) = ({b}, {nk}), got {keyPaddingMask.Shape}");
        return backend;
    }

    // The mask as a view of x's shape whose last axis is unit-stride or broadcast (densified otherwise).
    private static Tensor ExpandMask(Tensor mask, Shape shape)
    {
        using var expanded = mask.Expand(shape);
        int last = expanded.Strides[^1];
        if (last == 0 || last == 1 || shape[^1] == 1) return expanded.Alias();
        using var dense = Contiguous(mask);
        return dense.Expand(shape);
    }
}
