using Hep.Models.Common;
using Hep.Models.Nn;

namespace Hep.Models.ParticleTransformer;

/// <summary>
/// Particle Transformer (and ParT-plain) as weaver-core v0.4.17 implements it (spec §2.3): sequence
/// trimming, particle embedding with padded slots zeroed, pair-feature embedding to one attention bias
/// per head, NormFormer particle blocks, class-attention blocks on a learned class token, final
/// LayerNorm and the FC head. Batch-first internally; parameter names match weaver's state dict without
/// the wrapper's "mod." prefix (cls_token, embed.*, pair_embed.*, blocks.i.*, cls_blocks.i.*, norm.*, fc.*).
/// </summary>
public sealed class ParticleTransformer : Module
{
    private readonly ParticleEmbed _embed;
    private readonly PairEmbed? _pairEmbed;
    private readonly List<AttentionBlock> _blocks = [];
    private readonly List<AttentionBlock> _classBlocks = [];
    private readonly LayerNorm _norm;
    private readonly FcHead _head;
    private readonly SequenceTrimmer _trimmer;

    public ParticleTransformer(IBackend backend, ParticleTransformerConfig config, ulong seed = 1, DType dtype = DType.Float32)
    {
        Config = config;
        int e = config.EmbedDim;
        ClassToken = RegisterParameter("cls_token", TruncatedNormal(backend, new Shape(1, 1, e), 0.02, 2.0, (int)seed, dtype));
        _embed = RegisterModule("embed", new ParticleEmbed(backend, config.InputDim, config.EmbedDims, seed * 1000 + 1, dtype));
        if (config.HasPairEmbedding)
            _pairEmbed = RegisterModule("pair_embed", new PairEmbed(backend, config.PairInputDim, config.PairEmbedDims, config.NumHeads, config.UsePreActivationPair, seed * 1000 + 10, dtype));
        for (int i = 0; i < config.NumLayers; i++)
        {
            _blocks.Add(RegisterModule($"blocks.{i}", new AttentionBlock(backend, e, config.NumHeads, config.FfnRatio, config.Dropout,
                config.AttentionDropout, config.ActivationDropout, seed * 1000 + 100 + (ulong)i * 50, dtype)));
        }
        for (int i = 0; i < config.NumClassLayers; i++)
        {
            _classBlocks.Add(RegisterModule($"cls_blocks.{i}", new AttentionBlock(backend, e, config.NumHeads, config.FfnRatio, config.ClassDropout,
                config.ClassAttentionDropout, config.ClassActivationDropout, seed * 1000 + 700 + (ulong)i * 50, dtype)));
        }
        _norm = RegisterModule("norm", new LayerNorm(backend, e, dtype: dtype));
        _head = RegisterModule("fc", new FcHead(backend, e, config.Fcs, config.NumClasses, seed * 1000 + 900, dtype));
        _trimmer = new SequenceTrimmer(config.Trim, (int)seed);
    }

    public ParticleTransformerConfig Config { get; }
    public Variable ClassToken { get; }

    /// <summary>
    /// features (B, C0, N), vectors (B, 4, N) = (px, py, pz, E) in GeV (ignored by ParT-plain), mask
    /// (B, 1, N) with 1 = real → logits (B, classes) (probabilities when ForInference).
    /// <paramref name="pairFeatures"/> (B, 4, N(N+1)/2), when given, replaces the computed pair features
    /// (reference comparisons); it requires an untrimmed sequence.
    /// </summary>
    public Variable Forward(Variable features, Tensor? vectors, Tensor mask, Tensor? pairFeatures = null)
    {
        if (features.Shape.Rank != 3 || features.Shape[1] != Config.InputDim)
            throw new ArgumentException($"ParticleTransformer: features {features.Shape} must be (B, {Config.InputDim}, N)");
        if (_pairEmbed is not null && vectors is null && pairFeatures is null)
            throw new ArgumentException("ParticleTransformer: the pair embedding needs the particle 4-vectors");
        var (x0, v, m, trimmed) = _trimmer.Apply(features.Data, vectors, mask, Training);
        using (x0)
        using (v)
        using (m)
        {
            var input = trimmed ? Variable.Constant(x0) : features;
            int b = m.Shape[0], n = m.Shape[2];
            using var valid = TensorOps.Reshape(m, b, n);
            // Per-particle layers on the real rows only (see PackedRows): (R, E).
            using var rows = PackedRows.FromMask(m);
            var packed = _embed.Forward(input, rows);
            Variable? bias = null;
            if (_pairEmbed is not null)
            {
                if (pairFeatures is not null && (trimmed || pairFeatures.Shape[2] != PairFeatures.PairCount(n)))
                    throw new ArgumentException($"ParticleTransformer: pair features {pairFeatures.Shape} do not match the (trimmed) N = {n}");
                bias = Training ? DensePairBias(pairFeatures, v!, m, packed.DType, n) : RealPairBias(pairFeatures, v!, m, packed.DType, b, n);
            }
            foreach (var block in _blocks) packed = block.ForwardPacked(packed, bias, valid, rows);
            using var zeros = Tensor.Zeros(packed.Backend, new Shape(b, 1, Config.EmbedDim), packed.DType);
            var cls = Fn.Add(Variable.Constant(zeros), ClassToken);
            if (Tape.Current is null)
            {
                // Inference: class attention reads the packed rows directly.
                foreach (var block in _classBlocks) cls = block.ForwardClassPacked(packed, cls, valid, rows);
            }
            else
            {
                var x = rows.Unpack(packed); // (B, N, E), padded slots 0 (masked keys of the class blocks)
                foreach (var block in _classBlocks) cls = block.ForwardClass(x, cls, valid);
            }
            var pooled = Fn.Reshape(_norm.Forward(cls), b, Config.EmbedDim);
            var logits = _head.Forward(pooled);
            return Config.ForInference ? Fn.Softmax(logits, -1) : logits;
        }
    }

    // Training: every pair of the lower triangle (padded ones included: they enter the batch-norm statistics, as in weaver).
    private Variable DensePairBias(Tensor? pairFeatures, Tensor vectors, Tensor mask, DType dtype, int n)
    {
        using var pf = pairFeatures?.Alias() ?? PairFeatures.Compute(vectors);
        using var typed = pf.DType == dtype ? pf.Alias() : TensorOps.Cast(pf, dtype);
        // Embedded once per distinct pair row with the dense batch's statistics (see DistinctPairs).
        int b = typed.Shape[0], c = typed.Shape[1], p = typed.Shape[2];
        var pairs = DistinctPairs.Find(typed.ToDoubleArray(), b, c, n, mask.ToDoubleArray());
        using var view = typed.Permute(1, 0, 2);
        using var channelsFirst = TensorOps.Contiguous(view);
        using var flat = TensorOps.Reshape(channelsFirst, 1, c, b * p);
        using var representatives = Tensor.FromArray<int>(typed.Backend, pairs.Representatives, new Shape(pairs.Count));
        using var distinct = TensorOps.IndexSelect(flat, 2, representatives);
        return _pairEmbed!.ForwardDistinct(Variable.Constant(distinct), pairs, b, n);
    }

    // Eval: the real pairs only (same outputs, see PairEmbed.ForwardRealPairs); stored dense features are compacted.
    private Variable RealPairBias(Tensor? pairFeatures, Tensor vectors, Tensor mask, DType dtype, int b, int n)
    {
        Tensor pf;
        int[] index;
        if (pairFeatures is null)
        {
            (pf, index) = PairFeatures.ComputeRealPairs(vectors, mask);
        }
        else
        {
            index = PairFeatures.RealPairs(mask, b, n);
            int c = pairFeatures.Shape[1], p = pairFeatures.Shape[2];
            using var view = pairFeatures.Permute(1, 0, 2);
            using var channelsFirst = TensorOps.Contiguous(view);
            using var flat = TensorOps.Reshape(channelsFirst, 1, c, b * p);
            using var selected = Tensor.FromArray<int>(pairFeatures.Backend, index, new Shape(index.Length));
            pf = TensorOps.IndexSelect(flat, 2, selected);
        }
        using (pf)
        {
            using var typed = pf.DType == dtype ? pf.Alias() : TensorOps.Cast(pf, dtype);
            return _pairEmbed!.ForwardRealPairs(Variable.Constant(typed), index, b, n);
        }
    }

    // Truncated normal N(0, std²) cut at ±bound (absolute), drawn on the host from a seed.
    private static Tensor TruncatedNormal(IBackend backend, Shape shape, double std, double bound, int seed, DType dtype)
    {
        var rng = new Random(seed);
        var values = new double[shape.Numel];
        for (int i = 0; i < values.Length; i++)
        {
            double z;
            do
            {
                z = std * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            }
            while (Math.Abs(z) > bound);
            values[i] = z;
        }
        return dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, values, shape)
            : Tensor.FromArray<float>(backend, Array.ConvertAll(values, x => (float)x), shape);
    }
}
