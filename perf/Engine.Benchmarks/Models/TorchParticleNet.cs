using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hep.Benchmarks.Models;

/// <summary>
/// ParticleNet written in TorchSharp (libtorch) from the specification (shared/specs/particlenet-part.md
/// §1, weaver-core v0.4.17 semantics), for the full-model comparison benchmarks only: inputs zeroed on
/// padded slots, input BatchNorm, EdgeConv blocks (kNN from one matmul and topk(k + 1) with the first
/// column dropped, padded coordinates shifted by 1e9, edge features [x_i, x_j − x_i] by index_select,
/// three [Conv2d 1×1 → BatchNorm2d → ReLU], mean over the k neighbours, conv + BN shortcut), pooling by
/// the true particle count, [Linear → ReLU → Dropout] → Linear. Submodules carry weaver's state-dict names
/// (bn_fts, edge_convs.i.convs.j, …) so the engine's weights can be copied in by name.
/// </summary>
internal sealed class TorchParticleNet : nn.Module
{
    private readonly BatchNorm1d _ftsNorm;
    private readonly TorchEdgeConv[] _blocks;
    private readonly Linear[] _hidden;
    private readonly Dropout[] _hiddenDropout;
    private readonly Linear _output;

    /// <summary>convs: (k, channels) per block; fcs: (units, dropout) per hidden layer.</summary>
    public TorchParticleNet(int inputDims, int numClasses, (int K, int[] Channels)[] convs, (int Units, double Dropout)[] fcs)
        : base("ParticleNet")
    {
        _ftsNorm = nn.BatchNorm1d(inputDims);
        register_module("bn_fts", _ftsNorm);
        var blocks = new List<TorchEdgeConv>();
        int channels = inputDims;
        foreach (var (k, outs) in convs)
        {
            blocks.Add(new TorchEdgeConv(k, channels, outs));
            channels = outs[^1];
        }
        _blocks = [.. blocks];
        register_module("edge_convs", nn.ModuleList(_blocks));
        var fc = new List<nn.Module>();
        _hidden = new Linear[fcs.Length];
        _hiddenDropout = new Dropout[fcs.Length];
        for (int i = 0; i < fcs.Length; i++)
        {
            _hidden[i] = nn.Linear(channels, fcs[i].Units);
            _hiddenDropout[i] = nn.Dropout(fcs[i].Dropout);
            fc.Add(nn.Sequential(("0", _hidden[i]), ("1", nn.ReLU()), ("2", _hiddenDropout[i])));
            channels = fcs[i].Units;
        }
        _output = nn.Linear(channels, numClasses);
        fc.Add(_output);
        register_module("fc", nn.ModuleList([.. fc]));
    }

    /// <summary>points (B, 2, N), features (B, C0, N), mask (B, 1, N) → logits (B, classes).</summary>
    public torch.Tensor Forward(torch.Tensor points, torch.Tensor features, torch.Tensor mask)
    {
        points = points * mask;
        features = features * mask;
        var coordShift = mask.eq(0).to_type(ScalarType.Float32) * 1e9;
        var counts = mask.sum(-1).clamp_min(1);
        var fts = _ftsNorm.forward(features) * mask;
        for (int i = 0; i < _blocks.Length; i++)
        {
            var pts = (i == 0 ? points : fts) + coordShift;
            fts = _blocks[i].Forward(pts, fts) * mask;
        }
        var x = fts.sum(-1) / counts;
        for (int i = 0; i < _hidden.Length; i++) x = _hiddenDropout[i].forward(torch.nn.functional.relu(_hidden[i].forward(x)));
        return _output.forward(x);
    }
}

/// <summary>
/// One EdgeConv block (spec §1.3) in TorchSharp: kNN on the given coordinates, edge features
/// [x_i, x_j − x_i] of shape (B, 2C, N, k), [Conv2d 1×1 (no bias) → BatchNorm2d → ReLU] per width,
/// mean over k, shortcut Conv1d + BatchNorm1d (channel count changes) or identity, ReLU of the sum.
/// </summary>
internal sealed class TorchEdgeConv : nn.Module
{
    private readonly int _k;
    private readonly Conv2d[] _convs;
    private readonly BatchNorm2d[] _norms;
    private readonly Conv1d? _shortcut;
    private readonly BatchNorm1d? _shortcutNorm;

    public TorchEdgeConv(int k, int inChannels, int[] channels) : base("EdgeConvBlock")
    {
        _k = k;
        _convs = new Conv2d[channels.Length];
        _norms = new BatchNorm2d[channels.Length];
        for (int i = 0; i < channels.Length; i++)
        {
            _convs[i] = nn.Conv2d(i == 0 ? 2 * inChannels : channels[i - 1], channels[i], 1, bias: false);
            _norms[i] = nn.BatchNorm2d(channels[i]);
        }
        register_module("convs", nn.ModuleList(_convs));
        register_module("bns", nn.ModuleList(_norms));
        if (inChannels != channels[^1])
        {
            _shortcut = nn.Conv1d(inChannels, channels[^1], 1, bias: false);
            _shortcutNorm = nn.BatchNorm1d(channels[^1]);
            register_module("sc", _shortcut);
            register_module("sc_bn", _shortcutNorm);
        }
    }

    /// <summary>points (B, D, N) already shifted on padded slots, features (B, C, N) → (B, C_out, N).</summary>
    public torch.Tensor Forward(torch.Tensor points, torch.Tensor features)
    {
        torch.Tensor index;
        using (torch.no_grad()) index = Knn(points, _k);
        var x = EdgeFeatures(features, index, _k);
        for (int i = 0; i < _convs.Length; i++) x = torch.nn.functional.relu(_norms[i].forward(_convs[i].forward(x)));
        var aggregated = x.mean([-1]);
        var shortcut = _shortcut is null ? features : _shortcutNorm!.forward(_shortcut.forward(features));
        return torch.nn.functional.relu(shortcut + aggregated);
    }

    /// <summary>
    /// Indices (B, N, k) of the k nearest other points: score s_ij = −|x_i|² + 2 x_i·x_j − |x_j|² (= −d²)
    /// from one batched matmul, topk(k + 1) largest, first column (the point itself) dropped.
    /// </summary>
    public static torch.Tensor Knn(torch.Tensor x, int k)
    {
        var inner = torch.matmul(x.transpose(2, 1), x) * 2;
        var squared = x.pow(2).sum(1, keepdim: true);
        var score = inner - squared - squared.transpose(2, 1);
        var (_, indices) = score.topk(k + 1, dim: -1);
        return indices[.., .., 1..];
    }

    /// <summary>features (B, C, N), neighbour indices (B, N, k) → [x_i, x_j − x_i] (B, 2C, N, k).</summary>
    public static torch.Tensor EdgeFeatures(torch.Tensor x, torch.Tensor index, int k)
    {
        long b = x.shape[0], c = x.shape[1], n = x.shape[2];
        var offsets = torch.arange(0, b, dtype: ScalarType.Int64).view(-1, 1, 1) * n;
        var flat = (index + offsets).view(-1);
        var neighbours = x.transpose(2, 1).reshape(-1, c).index_select(0, flat).view(b, n, k, c).permute(0, 3, 1, 2);
        var centre = x.view(b, c, n, 1).expand(b, c, n, k);
        return torch.cat([centre, neighbours - centre], 1);
    }
}
