using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hep.Benchmarks.Models;

/// <summary>
/// Particle Transformer written in TorchSharp (libtorch) from the specification (shared/specs/
/// particlenet-part.md §2, weaver-core v0.4.17 semantics, the particle_transformer wrapper's defaults),
/// batch-first, for the full-model comparison benchmarks only: particle embedding BN → [LN → Linear →
/// GELU] × (128, 512, 128) with padded slots zeroed; pair features [ln kT, ln z, ln Δ, ln m²] of the
/// lower-triangle pairs (diagonal included) from the 4-vectors → BN → [Conv1d → BN → GELU] × (64, 64,
/// 64, 8) scattered symmetrically to the per-head attention bias U; 8 NormFormer blocks; 2 class-attention
/// blocks on a learned class token; final LN and Linear. Sequence trimming is not modelled (the benchmarks
/// run both sides at the full N). Submodules carry weaver's state-dict names.
/// </summary>
internal sealed class TorchParticleTransformer : nn.Module
{
    private const int EmbedDim = 128, Heads = 8;
    private readonly Parameter _classToken;
    private readonly BatchNorm1d _inputNorm;
    private readonly (LayerNorm Norm, Linear Linear)[] _embed;
    private readonly TorchPairEmbed _pairEmbed;
    private readonly TorchAttentionBlock[] _blocks, _classBlocks;
    private readonly LayerNorm _norm;
    private readonly Linear _head;

    /// <param name="fusedAttention">scaled_dot_product_attention instead of the explicit matmul/softmax composition.</param>
    public TorchParticleTransformer(int inputDim, int numClasses, bool fusedAttention) : base("ParticleTransformer")
    {
        _classToken = new Parameter(torch.nn.init.trunc_normal_(torch.empty(1, 1, EmbedDim), std: 0.02, a: -2, b: 2));
        register_parameter("cls_token", _classToken);
        _inputNorm = nn.BatchNorm1d(inputDim);
        int[] dims = [128, 512, 128];
        _embed = new (LayerNorm, Linear)[dims.Length];
        var sequence = new List<(string, nn.Module<torch.Tensor, torch.Tensor>)>();
        int input = inputDim;
        for (int i = 0; i < dims.Length; i++)
        {
            _embed[i] = (nn.LayerNorm(input), nn.Linear(input, dims[i]));
            sequence.Add(($"{3 * i}", _embed[i].Norm));
            sequence.Add(($"{3 * i + 1}", _embed[i].Linear));
            sequence.Add(($"{3 * i + 2}", nn.GELU()));
            input = dims[i];
        }
        var embed = new EmbedContainer(_inputNorm, nn.Sequential(sequence));
        register_module("embed", embed);
        _pairEmbed = new TorchPairEmbed(4, [64, 64, 64], Heads);
        register_module("pair_embed", _pairEmbed);
        _blocks = Enumerable.Range(0, 8).Select(_ => new TorchAttentionBlock(EmbedDim, Heads, 4, 0.1, fusedAttention)).ToArray();
        _classBlocks = Enumerable.Range(0, 2).Select(_ => new TorchAttentionBlock(EmbedDim, Heads, 4, 0.0, fusedAttention)).ToArray();
        register_module("blocks", nn.ModuleList(_blocks));
        register_module("cls_blocks", nn.ModuleList(_classBlocks));
        _norm = nn.LayerNorm(EmbedDim);
        register_module("norm", _norm);
        _head = nn.Linear(EmbedDim, numClasses);
        register_module("fc", nn.ModuleList(_head));
    }

    /// <summary>features (B, C0, N), vectors (B, 4, N) = (px, py, pz, E), mask (B, 1, N) → logits (B, classes).</summary>
    public torch.Tensor Forward(torch.Tensor features, torch.Tensor vectors, torch.Tensor mask)
    {
        long b = mask.shape[0], n = mask.shape[2];
        var valid = mask.view(b, n);
        // Key padding as an additive −∞ on padded keys, shaped to broadcast over heads and queries.
        var keyPadding = torch.zeros(b, 1, 1, n).masked_fill(valid.eq(0).view(b, 1, 1, n), double.NegativeInfinity);
        var x = _inputNorm.forward(features).permute(0, 2, 1);
        foreach (var (norm, linear) in _embed) x = torch.nn.functional.gelu(linear.forward(norm.forward(x)));
        x = x * mask.view(b, n, 1);
        torch.Tensor pairs;
        using (torch.no_grad()) pairs = TorchPairEmbed.Features(vectors);
        var bias = _pairEmbed.Forward(pairs, (int)n) + keyPadding;
        foreach (var block in _blocks) x = block.Forward(x, bias);
        var classPadding = torch.cat([torch.zeros(b, 1, 1, 1), keyPadding], -1);
        var cls = _classToken.expand(b, 1, EmbedDim);
        foreach (var block in _classBlocks) cls = block.ForwardClass(x, cls, classPadding);
        return _head.forward(_norm.forward(cls).view(b, EmbedDim));
    }

    // weaver's Embed: input_bn + the [LN, Linear, GELU] Sequential, named embed.input_bn.* and embed.embed.*.
    private sealed class EmbedContainer : nn.Module
    {
        public EmbedContainer(BatchNorm1d inputNorm, Sequential embed) : base("Embed")
        {
            register_module("input_bn", inputNorm);
            register_module("embed", embed);
        }
    }
}

/// <summary>
/// ParT's pair embedding (spec §2.4) in TorchSharp: pairwise Lorentz features of the lower-triangle pairs,
/// BN1d(4) → [Conv1d 1×1 → BN1d → GELU] per width (last GELU kept: use_pre_activation_pair = False),
/// scattered symmetrically to (B, H, N, N) with one index_select over a (N·N) pair map.
/// </summary>
internal sealed class TorchPairEmbed : nn.Module
{
    private readonly Sequential _embed;
    private torch.Tensor? _symmetric;
    private int _symmetricN;

    public TorchPairEmbed(int inputDim, int[] dims, int heads) : base("PairEmbed")
    {
        var layers = new List<(string, nn.Module<torch.Tensor, torch.Tensor>)> { ("0", nn.BatchNorm1d(inputDim)) };
        int input = inputDim, at = 1;
        foreach (int width in dims.Append(heads))
        {
            layers.Add(($"{at}", nn.Conv1d(input, width, 1)));
            layers.Add(($"{at + 1}", nn.BatchNorm1d(width)));
            layers.Add(($"{at + 2}", nn.GELU()));
            at += 3;
            input = width;
        }
        _embed = nn.Sequential(layers);
        register_module("embed", _embed);
    }

    /// <summary>Pair features (B, 4, N(N+1)/2) → bias (B, H, N, N).</summary>
    public torch.Tensor Forward(torch.Tensor pairFeatures, int n)
    {
        var elements = _embed.forward(pairFeatures);
        if (_symmetric is null || _symmetricN != n)
        {
            var map = new long[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) map[i * n + j] = Math.Max(i, j) * (Math.Max(i, j) + 1) / 2 + Math.Min(i, j);
            _symmetric?.Dispose();
            _symmetric = torch.tensor(map).DetachFromDisposeScope();
            _symmetricN = n;
        }
        return elements.index_select(2, _symmetric).view(elements.shape[0], elements.shape[1], n, n);
    }

    /// <summary>
    /// vectors (B, 4, N) → [ln kT, ln z, ln Δ, ln m²] (B, 4, P) for pairs i ≥ j in tril_indices order;
    /// pT, rapidity ½·ln(1 + 2pz / max(E − pz, 1e-20)) and φ per particle, Δφ wrapped with the floor
    /// remainder, every log argument clamped at 1e-8, m² from the summed 4-vector.
    /// </summary>
    public static torch.Tensor Features(torch.Tensor vectors)
    {
        const double eps = 1e-8;
        long n = vectors.shape[2];
        var tril = torch.tril_indices(n, n);
        var (i, j) = (tril[0], tril[1]);
        var px = vectors[.., 0..1, ..];
        var py = vectors[.., 1..2, ..];
        var pz = vectors[.., 2..3, ..];
        var e = vectors[.., 3..4, ..];
        var pt = torch.sqrt(px * px + py * py);
        var rapidity = 0.5 * torch.log(1 + 2 * pz / (e - pz).clamp_min(1e-20));
        var phi = torch.atan2(py, px);
        var (pti, ptj) = (pt.index_select(2, i), pt.index_select(2, j));
        var dRap = rapidity.index_select(2, i) - rapidity.index_select(2, j);
        var dPhi = torch.remainder(phi.index_select(2, i) - phi.index_select(2, j) + Math.PI, 2 * Math.PI) - Math.PI;
        var delta = torch.sqrt(dRap * dRap + dPhi * dPhi);
        var lnDelta = torch.log(delta.clamp_min(eps));
        var ptMin = torch.minimum(pti, ptj);
        var lnKt = torch.log((ptMin * delta).clamp_min(eps));
        var lnZ = torch.log((ptMin / (pti + ptj).clamp_min(eps)).clamp_min(eps));
        var sum = vectors.index_select(2, i) + vectors.index_select(2, j);
        var (sx, sy, sz, se) = (sum[.., 0..1, ..], sum[.., 1..2, ..], sum[.., 2..3, ..], sum[.., 3..4, ..]);
        var lnM2 = torch.log((se * se - (sx * sx + sy * sy + sz * sz)).clamp_min(eps));
        return torch.cat([lnKt, lnZ, lnDelta, lnM2], 1);
    }
}

/// <summary>
/// ParT's NormFormer block (spec §2.5/2.6) in TorchSharp, batch-first: pre-LN → multi-head attention →
/// head scale c_attn with weaver's head/dim transposition → post-LN → dropout → residual; pre-LN → fc1 →
/// GELU → dropout → LN(512) → fc2 → dropout → + w_resid ⊙ residual. Class form: the raw class token
/// queries the LayerNorm of [cls; x].
/// </summary>
internal sealed class TorchAttentionBlock : nn.Module
{
    private readonly int _embedDim, _heads;
    private readonly double _dropout;
    private readonly LayerNorm _preAttnNorm, _postAttnNorm, _preFcNorm, _postFcNorm;
    private readonly TorchMultiheadAttention _attention;
    private readonly Parameter _headScale, _residualScale;
    private readonly Linear _fc1, _fc2;

    public TorchAttentionBlock(int embedDim, int heads, int ffnRatio, double dropout, bool fused) : base("Block")
    {
        (_embedDim, _heads, _dropout) = (embedDim, heads, dropout);
        _preAttnNorm = nn.LayerNorm(embedDim);
        _attention = new TorchMultiheadAttention(embedDim, heads, dropout, fused);
        _postAttnNorm = nn.LayerNorm(embedDim);
        _preFcNorm = nn.LayerNorm(embedDim);
        _fc1 = nn.Linear(embedDim, embedDim * ffnRatio);
        _postFcNorm = nn.LayerNorm(embedDim * ffnRatio);
        _fc2 = nn.Linear(embedDim * ffnRatio, embedDim);
        _headScale = new Parameter(torch.ones(heads));
        _residualScale = new Parameter(torch.ones(embedDim));
        register_module("pre_attn_norm", _preAttnNorm);
        register_module("attn", _attention);
        register_module("post_attn_norm", _postAttnNorm);
        register_module("pre_fc_norm", _preFcNorm);
        register_module("fc1", _fc1);
        register_module("post_fc_norm", _postFcNorm);
        register_module("fc2", _fc2);
        register_parameter("c_attn", _headScale);
        register_parameter("w_resid", _residualScale);
    }

    /// <summary>x (B, N, E), bias (B, H, N, N) holding U plus the −∞ key padding.</summary>
    public torch.Tensor Forward(torch.Tensor x, torch.Tensor bias)
    {
        var h = _preAttnNorm.forward(x);
        return FeedForward(AttentionResidual(_attention.SelfAttention(h, bias), x));
    }

    /// <summary>Class-attention form: cls (B, 1, E) queries LN([cls; x]); padding (B, 1, 1, N + 1).</summary>
    public torch.Tensor ForwardClass(torch.Tensor x, torch.Tensor cls, torch.Tensor padding)
    {
        var u = _preAttnNorm.forward(torch.cat([cls, x], 1));
        return FeedForward(AttentionResidual(_attention.CrossAttention(cls, u, padding), cls));
    }

    // headscale_permute: out[d·H + h] = a[h·D + d]·c_attn[h], then post-LN, dropout, + residual.
    private torch.Tensor AttentionResidual(torch.Tensor attended, torch.Tensor residual)
    {
        long b = attended.shape[0], n = attended.shape[1];
        var scaled = attended.view(b, n, _heads, _embedDim / _heads) * _headScale.view(_heads, 1);
        var permuted = scaled.transpose(-1, -2).reshape(b, n, _embedDim);
        return torch.nn.functional.dropout(_postAttnNorm.forward(permuted), _dropout, training) + residual;
    }

    private torch.Tensor FeedForward(torch.Tensor x)
    {
        var f = torch.nn.functional.dropout(torch.nn.functional.gelu(_fc1.forward(_preFcNorm.forward(x))), _dropout, training);
        f = torch.nn.functional.dropout(_fc2.forward(_postFcNorm.forward(f)), _dropout, training);
        return f + _residualScale * x;
    }
}

/// <summary>
/// PyTorch MultiheadAttention's math (batch-first; names in_proj_weight, in_proj_bias, out_proj.*):
/// packed Q/K/V projection, head h on dims [hD, hD + D), scores (q/√D)·kᵀ + bias (U and the −∞ key
/// padding), softmax over keys, dropout on the weights in training, ·v, heads concatenated, out_proj.
/// The fused form calls scaled_dot_product_attention with the same additive mask instead.
/// </summary>
internal sealed class TorchMultiheadAttention : nn.Module
{
    private readonly int _embedDim, _heads;
    private readonly double _dropout;
    private readonly bool _fused;
    private readonly Parameter _inProjWeight, _inProjBias;
    private readonly Linear _outProj;

    public TorchMultiheadAttention(int embedDim, int heads, double dropout, bool fused) : base("MultiheadAttention")
    {
        (_embedDim, _heads, _dropout, _fused) = (embedDim, heads, dropout, fused);
        _inProjWeight = new Parameter(torch.nn.init.xavier_uniform_(torch.empty(3 * embedDim, embedDim)));
        _inProjBias = new Parameter(torch.zeros(3 * embedDim));
        _outProj = nn.Linear(embedDim, embedDim);
        register_parameter("in_proj_weight", _inProjWeight);
        register_parameter("in_proj_bias", _inProjBias);
        register_module("out_proj", _outProj);
    }

    /// <summary>h (B, N, E) attends to itself with bias (B, H, N, N).</summary>
    public torch.Tensor SelfAttention(torch.Tensor h, torch.Tensor bias)
    {
        var qkv = torch.nn.functional.linear(h, _inProjWeight, _inProjBias).chunk(3, -1);
        return Attend(qkv[0], qkv[1], qkv[2], bias);
    }

    /// <summary>query (B, Nq, E) attends to keyValue (B, Nk, E) with bias (B, 1, 1, Nk).</summary>
    public torch.Tensor CrossAttention(torch.Tensor query, torch.Tensor keyValue, torch.Tensor bias)
    {
        var q = torch.nn.functional.linear(query, _inProjWeight[..(int)_embedDim], _inProjBias[..(int)_embedDim]);
        var kv = torch.nn.functional.linear(keyValue, _inProjWeight[(int)_embedDim..], _inProjBias[(int)_embedDim..]).chunk(2, -1);
        return Attend(q, kv[0], kv[1], bias);
    }

    // q (B, Nq, E), k and v (B, Nk, E) → out_proj(attention) (B, Nq, E).
    private torch.Tensor Attend(torch.Tensor q, torch.Tensor k, torch.Tensor v, torch.Tensor bias)
    {
        long b = q.shape[0], nq = q.shape[1], nk = k.shape[1], d = _embedDim / _heads;
        var qh = q.view(b, nq, _heads, d).transpose(1, 2);
        var kh = k.view(b, nk, _heads, d).transpose(1, 2);
        var vh = v.view(b, nk, _heads, d).transpose(1, 2);
        torch.Tensor attended;
        double p = training ? _dropout : 0;
        if (_fused)
        {
            attended = torch.nn.functional.scaled_dot_product_attention(qh, kh, vh, bias, p);
        }
        else
        {
            var scores = torch.matmul(qh * (1.0 / Math.Sqrt(d)), kh.transpose(-1, -2)) + bias;
            var weights = torch.nn.functional.dropout(torch.softmax(scores, -1), p, training);
            attended = torch.matmul(weights, vh);
        }
        return _outProj.forward(attended.transpose(1, 2).reshape(b, nq, _embedDim));
    }
}
