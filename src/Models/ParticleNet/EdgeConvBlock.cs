using Hep.Models.Nn;

namespace Hep.Models.ParticleNet;

/// <summary>
/// One EdgeConv block (spec §1.3): kNN graph on the given coordinates, edge features
/// [x_i, x_j − x_i], layers of [1×1 conv (no bias) → BatchNorm → ReLU], mean over the k neighbours,
/// plus a shortcut (1×1 conv + BatchNorm when the channel count changes, else identity), then ReLU.
/// Parameter names follow weaver: convs.{i}.weight (O, C, 1, 1), bns.{i}.*, sc.weight, sc_bn.*.
/// </summary>
public sealed class EdgeConvBlock : Module
{
    private readonly List<Conv1x1> _convs = [];
    private readonly List<BatchNorm> _bns = [];
    private readonly Conv1x1? _shortcut;
    private readonly BatchNorm? _shortcutNorm;

    public EdgeConvBlock(IBackend backend, int k, int inChannels, IReadOnlyList<int> channels, ulong seed, DType dtype = DType.Float32)
    {
        K = k;
        InChannels = inChannels;
        OutChannels = channels[^1];
        for (int i = 0; i < channels.Count; i++)
        {
            int input = i == 0 ? 2 * inChannels : channels[i - 1];
            _convs.Add(RegisterModule($"convs.{i}", new Conv1x1(backend, input, channels[i], spatialDims: 2, bias: false, seed: seed + (ulong)i, dtype: dtype)));
        }
        for (int i = 0; i < channels.Count; i++) _bns.Add(RegisterModule($"bns.{i}", new BatchNorm(backend, channels[i], dtype: dtype)));
        if (inChannels != OutChannels)
        {
            _shortcut = RegisterModule("sc", new Conv1x1(backend, inChannels, OutChannels, spatialDims: 1, bias: false, seed: seed + 100, dtype: dtype));
            _shortcutNorm = RegisterModule("sc_bn", new BatchNorm(backend, OutChannels, dtype: dtype));
        }
    }

    public int K { get; }
    public int InChannels { get; }
    public int OutChannels { get; }

    /// <summary>
    /// coordinates (B, D, N) for the kNN (padded slots zero; the 1e9 shift is applied from the mask),
    /// features (B, C, N), mask (B, 1, N) → (B, C_out, N). <paramref name="neighbours"/> (B, N, k), when
    /// given, replaces the kNN (reference comparisons with imported indices).
    /// </summary>
    public Variable Forward(Tensor coordinates, Variable features, Tensor mask, Tensor? neighbours = null)
    {
        Tensor index = neighbours ?? Neighbours(coordinates, mask);
        try
        {
            if (index.Rank != 3 || index.Shape[2] != K)
                throw new ArgumentException($"EdgeConv: neighbour indices {index.Shape} must be (B, N, {K})");
            // [conv → BatchNorm → ReLU] per layer as fused BatchNorm+ReLU ops; the last one also takes the
            // mean over the k neighbours, so its (B, C, N, k) output is never materialised.
            var x = Fn.EdgeConvProject(features, _convs[0].Matrix(), index);
            for (int i = 0; i < _convs.Count; i++)
            {
                if (i > 0) x = _convs[i].Forward(x);
                x = _bns[i].ForwardRelu(x, meanLastAxis: i == _convs.Count - 1);
            }
            var aggregated = x;
            var shortcut = _shortcut is null ? features : _shortcutNorm!.Forward(_shortcut.Forward(features));
            return Fn.Relu(Fn.Add(shortcut, aggregated));
        }
        finally
        {
            if (neighbours is null) index.Dispose();
        }
    }

    /// <summary>
    /// The block's kNN graph (B, N, k) on coordinates (B, D, N) with mask (B, 1, N): the engine's kNN,
    /// self excluded, padded points behaving as weaver's 1e9-shifted ones (after every real point).
    /// </summary>
    public Tensor Neighbours(Tensor coordinates, Tensor mask)
    {
        using var flat = TensorOps.Reshape(mask, mask.Shape[0], mask.Shape[^1]);
        return TensorOps.Knn(coordinates, flat, K);
    }
}
