using Hep.Models.Common;
using Hep.Models.Nn;

namespace Hep.Models.ParticleNet;

/// <summary>
/// ParticleNet / ParticleNet-Lite as weaver-core v0.4.17 implements it (spec §1.2): inputs zeroed on
/// padded slots, optional input BatchNorm, EdgeConv blocks (kNN on (Δη, Δφ) first, then on the
/// features, padded points shifted by 1e9), optional fusion conv, pooling by the true particle count
/// (use_counts) or over all slots, then [Linear → ReLU → Dropout]… → Linear. Parameter names match
/// weaver's state dict without the wrapper's "mod." prefix (bn_fts.*, edge_convs.i.*, fusion_block.*, fc.*).
/// </summary>
public sealed class ParticleNet : Module
{
    private readonly BatchNorm? _ftsNorm;
    private readonly List<EdgeConvBlock> _blocks = [];
    private readonly Conv1x1? _fusionConv;
    private readonly BatchNorm? _fusionNorm;
    private readonly FcHead _head;

    public ParticleNet(IBackend backend, ParticleNetConfig config, ulong seed = 1, DType dtype = DType.Float32)
    {
        Config = config;
        if (config.UseFtsBn) _ftsNorm = RegisterModule("bn_fts", new BatchNorm(backend, config.InputDims, dtype: dtype));
        int channels = config.InputDims;
        for (int i = 0; i < config.EdgeConvs.Count; i++)
        {
            var spec = config.EdgeConvs[i];
            _blocks.Add(RegisterModule($"edge_convs.{i}", new EdgeConvBlock(backend, spec.K, channels, spec.Channels, seed * 1000 + (ulong)i * 10, dtype)));
            channels = spec.Channels[^1];
        }
        if (config.UseFusion)
        {
            int inChannels = config.EdgeConvs.Sum(e => e.Channels[^1]);
            _fusionConv = RegisterModule("fusion_block.0", new Conv1x1(backend, inChannels, config.FusionChannels, bias: false, seed: seed * 1000 + 500, dtype: dtype));
            _fusionNorm = RegisterModule("fusion_block.1", new BatchNorm(backend, config.FusionChannels, dtype: dtype));
            channels = config.FusionChannels;
        }
        _head = RegisterModule("fc", new FcHead(backend, channels, config.Fcs, config.NumClasses, seed * 1000 + 600, dtype));
    }

    public ParticleNetConfig Config { get; }

    public IReadOnlyList<EdgeConvBlock> Blocks => _blocks;

    /// <summary>
    /// Debugging hook: when set, block i uses the returned neighbour indices (B, N, k) instead of its own
    /// kNN (null keeps the computed graph). Used to compare with reference runs whose kNN resolved exact
    /// distance ties differently (spec §1.8). The tensors stay owned by the caller.
    /// </summary>
    public Func<int, Tensor?>? NeighbourOverride { get; set; }

    /// <summary>
    /// points (B, 2, N) raw (Δη, Δφ), features (B, C0, N), mask (B, 1, N) with 1 = real particle
    /// (derived from non-zero features when null) → logits (B, classes), or probabilities when
    /// <see cref="ParticleNetConfig.ForInference"/>.
    /// </summary>
    public Variable Forward(Tensor points, Variable features, Tensor? mask = null)
    {
        int b = features.Shape[0], n = features.Shape[2];
        if (features.Shape.Rank != 3 || features.Shape[1] != Config.InputDims)
            throw new ArgumentException($"ParticleNet: features {features.Shape} must be (B, {Config.InputDims}, N)");
        if (points.Rank != 3 || points.Shape[0] != b || points.Shape[2] != n)
            throw new ArgumentException($"ParticleNet: points {points.Shape} do not match features {features.Shape}");
        using var m = mask is null ? DeriveMask(features.Data) : TensorOps.Contiguous(mask);
        if (m.Shape != new Shape(b, 1, n)) throw new ArgumentException($"ParticleNet: mask {m.Shape} must be ({b}, 1, {n})");
        var maskVar = Variable.Constant(m);
        using var maskedPoints = TensorOps.Mul(points, m);
        var fts = Fn.Mul(features, maskVar);
        if (_ftsNorm is not null) fts = Fn.Mul(_ftsNorm.Forward(fts), maskVar);
        var outputs = new List<Variable>();
        var realEnds = new RealParticleEnds(m); // read back (CPU eval pipeline only) once for all blocks
        for (int i = 0; i < _blocks.Count; i++)
        {
            var coordinates = i == 0 ? maskedPoints : fts.Data;
            fts = Fn.Mul(_blocks[i].Forward(coordinates, fts, m, NeighbourOverride?.Invoke(i), paddedOutputsMasked: true, realEnds), maskVar);
            if (_fusionConv is not null) outputs.Add(fts);
        }
        if (_fusionConv is not null)
            fts = Fn.Mul(_fusionNorm!.ForwardRelu(_fusionConv.Forward(Fn.Concat(outputs, 1))), maskVar);
        Variable pooled;
        if (Config.UseCounts)
        {
            using var counts = TensorOps.Sum(m, -1);
            using var clamped = TensorOps.Unary(UnaryOp.Clamp, counts, 1, double.PositiveInfinity);
            pooled = Fn.Div(Fn.Sum(fts, -1), Variable.Constant(clamped));
        }
        else
        {
            pooled = Fn.Mean(fts, -1);
        }
        var logits = _head.Forward(pooled);
        return Config.ForInference ? Fn.Softmax(logits, -1) : logits;
    }

    /// <summary>mask = (Σ_c |features| ≠ 0), shape (B, 1, N).</summary>
    private static Tensor DeriveMask(Tensor features)
    {
        using var abs = TensorOps.Unary(UnaryOp.Abs, features);
        using var sum = TensorOps.Sum(abs, 1, keepDim: true);
        using var zero = Tensor.Zeros(features.Backend, new Shape(), features.DType);
        using var isZero = TensorOps.Binary(BinaryOp.Equal, sum, zero);
        using var one = Tensor.Full(features.Backend, new Shape(), 1.0, features.DType);
        return TensorOps.Sub(one, isZero);
    }
}
