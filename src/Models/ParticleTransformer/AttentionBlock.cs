using Hep.Models.Nn;

namespace Hep.Models.ParticleTransformer;

/// <summary>
/// ParT's NormFormer-style block (weaver v0.4.17 Block, spec §2.5/2.6): pre-LN → multi-head attention →
/// per-head scale c_attn with weaver's head/dim transposition (out[d·H + h] = a[h·D + d]·c_attn[h]) →
/// post-LN → dropout → residual; then pre-LN → fc1 → GELU → dropout → LN(512) → fc2 → dropout →
/// + w_resid ⊙ residual. As a class-attention block the query is the raw class token and keys/values
/// are the LayerNorm of [cls; x].
/// </summary>
public sealed class AttentionBlock : Module
{
    private readonly LayerNorm _preAttnNorm, _postAttnNorm, _preFcNorm, _postFcNorm;
    private readonly MultiheadAttention _attention;
    private readonly Linear _fc1, _fc2;
    private readonly Dropout _dropout, _activationDropout;

    public AttentionBlock(IBackend backend, int embedDim, int heads, int ffnRatio, double dropout, double attentionDropout,
        double activationDropout, ulong seed, DType dtype = DType.Float32)
    {
        EmbedDim = embedDim;
        Heads = heads;
        int hidden = embedDim * ffnRatio;
        HeadScale = RegisterParameter("c_attn", Tensor.Full(backend, new Shape(heads), 1.0, dtype));
        ResidualScale = RegisterParameter("w_resid", Tensor.Full(backend, new Shape(embedDim), 1.0, dtype));
        _preAttnNorm = RegisterModule("pre_attn_norm", new LayerNorm(backend, embedDim, dtype: dtype));
        _attention = RegisterModule("attn", new MultiheadAttention(backend, embedDim, heads, attentionDropout, seed, dtype));
        _postAttnNorm = RegisterModule("post_attn_norm", new LayerNorm(backend, embedDim, dtype: dtype));
        _preFcNorm = RegisterModule("pre_fc_norm", new LayerNorm(backend, embedDim, dtype: dtype));
        _fc1 = RegisterModule("fc1", new Linear(backend, embedDim, hidden, seed: seed + 10, dtype: dtype));
        _postFcNorm = RegisterModule("post_fc_norm", new LayerNorm(backend, hidden, dtype: dtype));
        _fc2 = RegisterModule("fc2", new Linear(backend, hidden, embedDim, seed: seed + 11, dtype: dtype));
        _dropout = RegisterModule("dropout", new Dropout(dropout, seed + 20));
        _activationDropout = RegisterModule("act_dropout", new Dropout(activationDropout, seed + 21));
    }

    public int EmbedDim { get; }
    public int Heads { get; }
    public Variable HeadScale { get; }
    public Variable ResidualScale { get; }

    /// <summary>Particle block: x (B, N, E), bias (B, H, N, N) or null, keyPaddingMask (B, N) with 1 = valid.</summary>
    public Variable Forward(Variable x, Variable? bias, Tensor? keyPaddingMask)
    {
        var h = _preAttnNorm.Forward(x);
        var attended = _attention.Forward(h, h, bias, keyPaddingMask);
        return FeedForward(AttentionResidual(attended, x));
    }

    /// <summary>
    /// Particle block on packed rows: x (R, E) the real particles of <paramref name="rows"/>, bias
    /// (B, H, N, N) or null, keyPaddingMask (B, N) with 1 = valid → (R, E). Same arithmetic per real row
    /// as <see cref="Forward(Variable, Variable?, Tensor?)"/> (see <see cref="PackedRows"/>).
    /// </summary>
    public Variable ForwardPacked(Variable x, Variable? bias, Tensor keyPaddingMask, PackedRows rows)
    {
        var h = _preAttnNorm.Forward(x);
        // out_proj, c_attn and the head/dim transposition in one (folded) projection.
        var attended = _attention.ForwardPacked(h, bias, keyPaddingMask, rows, HeadScale);
        return FeedForward(Fn.Add(_dropout.Forward(_postAttnNorm.Forward(attended)), x));
    }

    /// <summary>Class-attention block: cls (B, 1, E) attends to [cls; x]; keyPaddingMask (B, N) covers x only.</summary>
    public Variable ForwardClass(Variable x, Variable cls, Tensor keyPaddingMask)
    {
        var u = _preAttnNorm.Forward(Fn.Concat([cls, x], 1));
        int b = keyPaddingMask.Shape[0];
        using var clsValid = Tensor.Full(keyPaddingMask.Backend, new Shape(b, 1), 1.0, keyPaddingMask.DType);
        using var valid = TensorOps.Concat([clsValid, keyPaddingMask], 1);
        var attended = _attention.Forward(cls, u, null, valid);
        return FeedForward(AttentionResidual(attended, cls));
    }

    /// <summary>
    /// <see cref="ForwardClass"/> for inference (no gradient) on the packed particle rows (R, E) of
    /// <paramref name="rows"/>: the LayerNorm and K/V projection run over the R real rows and the B class
    /// tokens only (<see cref="MultiheadAttention.ForwardClassPacked"/>). Same outputs.
    /// </summary>
    public Variable ForwardClassPacked(Variable packed, Variable cls, Tensor keyPaddingMask, PackedRows rows)
    {
        int b = keyPaddingMask.Shape[0];
        var u = _preAttnNorm.Forward(Fn.Concat([packed, Fn.Reshape(cls, b, EmbedDim)], 0)); // (R + B, E)
        using var clsValid = Tensor.Full(keyPaddingMask.Backend, new Shape(b, 1), 1.0, keyPaddingMask.DType);
        using var valid = TensorOps.Concat([clsValid, keyPaddingMask], 1);
        var attended = _attention.ForwardClassPacked(cls, u, valid, rows);
        return FeedForward(AttentionResidual(attended, cls));
    }

    private Variable AttentionResidual(Variable attended, Variable residual)
    {
        // (…, E) viewed as (rows, H, D), scaled per head, transposed to d-major: out[d·H + h] = a[h·D + d]·c[h].
        int rows = (int)(attended.Shape.Numel / EmbedDim);
        var perHead = Fn.Reshape(attended, rows, Heads, EmbedDim / Heads);
        var scaled = Fn.Mul(perHead, Fn.Reshape(HeadScale, Heads, 1));
        var transposed = Fn.Reshape(Fn.Permute(scaled, 0, 2, 1), attended.Shape.ToArray());
        return Fn.Add(_dropout.Forward(_postAttnNorm.Forward(transposed)), residual);
    }

    private Variable FeedForward(Variable x)
    {
        var f = _activationDropout.Forward(_fc1.Forward(_preFcNorm.Forward(x), GemmActivation.Gelu));
        f = _dropout.Forward(_fc2.Forward(_postFcNorm.Forward(f)));
        return Fn.Add(f, Fn.Mul(ResidualScale, x));
    }
}
