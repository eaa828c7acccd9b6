using Hep.Models.Nn;

namespace Hep.Models.ParticleTransformer;

/// <summary>
/// PyTorch nn.MultiheadAttention (batch-first here): packed in_proj_weight (3E, E) with rows Q, K, V and
/// in_proj_bias (3E), head h owning dims [hD, hD + D), attention over keys with an optional per-head
/// additive bias and key padding, heads concatenated in order, then out_proj. Initialisation as in
/// PyTorch: xavier-uniform in_proj, zero biases, default Linear out_proj weight.
/// </summary>
public sealed class MultiheadAttention : Module
{
    private readonly Linear _outProj;
    private readonly Dropout _weightDropout;

    public MultiheadAttention(IBackend backend, int embedDim, int heads, double attentionDropout, ulong seed, DType dtype = DType.Float32)
    {
        if (embedDim % heads != 0) throw new ArgumentException($"MultiheadAttention: embed dim {embedDim} is not divisible by {heads} heads");
        EmbedDim = embedDim;
        Heads = heads;
        double bound = Math.Sqrt(6.0 / (embedDim + 3 * embedDim));
        InProjWeight = RegisterParameter("in_proj_weight", Init.Uniform(backend, new Shape(3 * embedDim, embedDim), -bound, bound, seed, dtype));
        InProjBias = RegisterParameter("in_proj_bias", Tensor.Zeros(backend, new Shape(3 * embedDim), dtype));
        _outProj = RegisterModule("out_proj", new Linear(backend, embedDim, embedDim, seed: seed + 1, dtype: dtype));
        TensorOps.FillInPlace(_outProj.Bias!.Data, 0);
        _weightDropout = RegisterModule("attn_dropout", new Dropout(attentionDropout, seed + 2));
    }

    public int EmbedDim { get; }
    public int Heads { get; }
    public int HeadDim => EmbedDim / Heads;
    public Variable InProjWeight { get; }
    public Variable InProjBias { get; }

    /// <summary>
    /// query (B, Nq, E), keyValue (B, Nk, E), bias (B, H, Nq, Nk) or null, keyPaddingMask (B, Nk) with
    /// 1 = valid → (B, Nq, E) after out_proj.
    /// </summary>
    public Variable Forward(Variable query, Variable keyValue, Variable? bias, Tensor? keyPaddingMask)
    {
        var q = SplitHeads(Project(query, 0));
        var k = SplitHeads(Project(keyValue, 1));
        var v = SplitHeads(Project(keyValue, 2));
        var attended = Attend(q, k, v, bias, keyPaddingMask);
        int b = query.Shape[0], nq = query.Shape[1];
        var merged = Fn.Reshape(Fn.Permute(attended, 0, 2, 1, 3), b, nq, EmbedDim);
        return _outProj.Forward(merged);
    }

    /// <summary>
    /// Self-attention of packed particle rows: h (R, E) real rows of the jets described by
    /// <paramref name="rows"/>, bias (B, H, N, N) or null, keyPaddingMask (B, N) with 1 = valid → (R, E).
    /// One in_proj GEMM over the real rows; q, k, v are gathered straight into (B, H, N, D) (zeros in
    /// padded slots, which are masked keys and discarded queries). With <paramref name="headScale"/>
    /// (weaver Block's c_attn) the output is out_proj followed by the per-head scale and head/dim
    /// transposition, out[d·H + h] = c[h]·(x·Wᵀ + b)[h·D + d], folded into out_proj's weight rows and bias
    /// (E × E work instead of a pass over the activations).
    /// </summary>
    public Variable ForwardPacked(Variable h, Variable? bias, Tensor keyPaddingMask, PackedRows rows, Variable? headScale = null)
    {
        var qkv = Linear.Apply(h, InProjWeight, InProjBias, GemmActivation.None); // (R, 3E)
        var q = rows.UnpackHeads(qkv, 3, 0, Heads);        // (B, H, N, D)
        var k = rows.UnpackHeads(qkv, 3, 1, Heads);
        var v = rows.UnpackHeads(qkv, 3, 2, Heads);
        var merged = rows.PackHeads(Attend(q, k, v, bias, keyPaddingMask)); // (R, E)
        if (headScale is null) return _outProj.Forward(merged);
        int d = HeadDim;
        var weight = Fn.Mul(Fn.Reshape(_outProj.Weight, Heads, d, EmbedDim), Fn.Reshape(headScale, Heads, 1, 1));
        var bias2 = Fn.Mul(Fn.Reshape(_outProj.Bias!, Heads, d), Fn.Reshape(headScale, Heads, 1));
        return Linear.Apply(merged,
            Fn.Reshape(Fn.Permute(weight, 1, 0, 2), EmbedDim, EmbedDim),
            Fn.Reshape(Fn.Permute(bias2, 1, 0), EmbedDim), GemmActivation.None);
    }

    /// <summary>
    /// Class attention without a gradient (inference): query (B, 1, E) attends to keys/values projected from
    /// packed rows (R + B, E) = the real particles' rows and then the B class-token rows (see
    /// <see cref="PackedRows.UnpackClassHeads"/>), keyPaddingMask (B, 1 + N) with 1 = valid → (B, 1, E) after
    /// out_proj. Equals <see cref="Forward"/> on the dense [cls; x] (padded keys are masked either way) with
    /// one K/V GEMM over R + B rows instead of two over B·(1 + N).
    /// </summary>
    public Variable ForwardClassPacked(Variable query, Variable keyValueRows, Tensor keyPaddingMask, PackedRows rows)
    {
        var q = SplitHeads(Project(query, 0));
        var kv = Linear.Apply(keyValueRows, Fn.Slice(InProjWeight, 0, EmbedDim, 2 * EmbedDim), Fn.Slice(InProjBias, 0, EmbedDim, 2 * EmbedDim),
            GemmActivation.None); // (R + B, 2E)
        var k = rows.UnpackClassHeads(kv, 2, 0, Heads);
        var v = rows.UnpackClassHeads(kv, 2, 1, Heads);
        var attended = Attend(q, k, v, null, keyPaddingMask);
        int b = query.Shape[0], nq = query.Shape[1];
        return _outProj.Forward(Fn.Reshape(Fn.Permute(attended, 0, 2, 1, 3), b, nq, EmbedDim));
    }

    private Variable Attend(Variable q, Variable k, Variable v, Variable? bias, Tensor? keyPaddingMask)
    {
        // Training: the fused kernel drops attention weights itself (a fresh seed from the dropout module per call).
        using var mask = keyPaddingMask is null ? null
            : keyPaddingMask.DType == q.DType ? keyPaddingMask.Alias() : TensorOps.Cast(keyPaddingMask, q.DType);
        return Training && _weightDropout.P > 0
            ? Fn.Attention(q, k, v, bias, mask, _weightDropout.P, _weightDropout.NextSeed())
            : Fn.Attention(q, k, v, bias, mask);
    }

    // x·W_part^T + b_part for part 0 (Q), 1 (K), 2 (V) of the packed projection.
    private Variable Project(Variable x, int part) =>
        Linear.Apply(x, Fn.Slice(InProjWeight, 0, part * EmbedDim, EmbedDim), Fn.Slice(InProjBias, 0, part * EmbedDim, EmbedDim), GemmActivation.None);

    // (B, N, E) → (B, H, N, D).
    private Variable SplitHeads(Variable x) =>
        Fn.Permute(Fn.Reshape(x, x.Shape[0], x.Shape[1], Heads, HeadDim), 0, 2, 1, 3);
}
