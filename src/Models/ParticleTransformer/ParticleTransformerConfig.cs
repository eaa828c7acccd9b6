namespace Hep.Models.ParticleTransformer;

/// <summary>
/// Particle Transformer hyper-parameters with weaver-core v0.4.17's meaning (spec §2.2): defaults are
/// the particle_transformer wrapper's (embed [128, 512, 128], pair embed [64, 64, 64], 8 heads, 8 blocks,
/// 2 class blocks, dropouts 0.1 in blocks and 0 in class blocks, fc_params [] = one Linear,
/// use_pre_activation_pair = false, trimming on). <see cref="Plain"/> drops the pair embedding.
/// </summary>
public sealed record ParticleTransformerConfig(int InputDim, int NumClasses)
{
    /// <summary>Pairwise Lorentz features per pair (4 = [ln kT, ln z, ln Δ, ln m²]); 0 = ParT-plain (no attention bias).</summary>
    public int PairInputDim { get; init; } = 4;
    public IReadOnlyList<int> EmbedDims { get; init; } = [128, 512, 128];
    public IReadOnlyList<int> PairEmbedDims { get; init; } = [64, 64, 64];
    public int NumHeads { get; init; } = 8;
    public int NumLayers { get; init; } = 8;
    public int NumClassLayers { get; init; } = 2;
    public int FfnRatio { get; init; } = 4;
    public double Dropout { get; init; } = 0.1;
    public double AttentionDropout { get; init; } = 0.1;
    public double ActivationDropout { get; init; } = 0.1;
    public double ClassDropout { get; init; }
    public double ClassAttentionDropout { get; init; }
    public double ClassActivationDropout { get; init; }
    public IReadOnlyList<FcSpec> Fcs { get; init; } = [];
    public bool UsePreActivationPair { get; init; }
    public bool Trim { get; init; } = true;
    public bool ForInference { get; init; }

    public int EmbedDim => EmbedDims[^1];
    public bool HasPairEmbedding => PairInputDim > 0 && PairEmbedDims.Count > 0;

    /// <summary>ParT-plain: the same network without the pair-feature attention bias.</summary>
    public static ParticleTransformerConfig Plain(int inputDim, int numClasses) => new(inputDim, numClasses) { PairInputDim = 0 };

    /// <summary>Every dropout probability set to 0 (deterministic training steps, reference comparisons).</summary>
    public ParticleTransformerConfig WithoutDropout() => this with
    {
        Dropout = 0, AttentionDropout = 0, ActivationDropout = 0, ClassDropout = 0, ClassAttentionDropout = 0, ClassActivationDropout = 0,
        Fcs = Fcs.Select(f => f with { Dropout = 0 }).ToArray(),
    };
}
