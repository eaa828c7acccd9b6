using Hep.Models.Nn;

namespace Hep.Models.ParticleTransformer;

/// <summary>
/// ParT's pair embedding (spec §2.4): the lower-triangle pair features (B, 4, P) go through
/// BatchNorm1d(4), then [Conv1d 1×1 → BatchNorm1d → GELU] for each width and one final layer to
/// one channel per head (its GELU dropped when use_pre_activation_pair), and are scattered
/// symmetrically to the attention bias (B, H, N, N). Names follow weaver's Sequential: embed.0 (BN),
/// embed.1/2 (conv, BN), embed.4/5, … (GELUs hold the indices in between).
/// </summary>
public sealed class PairEmbed : Module
{
    private readonly BatchNorm _inputNorm;
    private readonly List<(Conv1x1 Conv, BatchNorm Norm, bool Gelu)> _layers = [];

    public PairEmbed(IBackend backend, int inputDim, IReadOnlyList<int> dims, int heads, bool preActivation, ulong seed, DType dtype = DType.Float32)
    {
        Heads = heads;
        _inputNorm = RegisterModule("embed.0", new BatchNorm(backend, inputDim, dtype: dtype));
        var widths = dims.Append(heads).ToArray();
        int input = inputDim;
        for (int i = 0; i < widths.Length; i++)
        {
            int at = 1 + 3 * i;
            var conv = RegisterModule($"embed.{at}", new Conv1x1(backend, input, widths[i], seed: seed + (ulong)i, dtype: dtype));
            var norm = RegisterModule($"embed.{at + 1}", new BatchNorm(backend, widths[i], dtype: dtype));
            bool gelu = !(preActivation && i == widths.Length - 1);
            _layers.Add((conv, norm, gelu));
            input = widths[i];
        }
    }

    public int Heads { get; }

    /// <summary>Per-pair outputs (B, H, P) from pair features (B, 4, P).</summary>
    public Variable Elements(Variable pairFeatures)
    {
        var x = _inputNorm.Forward(pairFeatures);
        foreach (var (conv, norm, gelu) in _layers)
        {
            x = norm.Forward(conv.Forward(x));
            if (gelu) x = Fn.Gelu(x);
        }
        return x;
    }

    /// <summary>Pair features (B, 4, N(N+1)/2) → symmetric attention bias (B, H, N, N).</summary>
    public Variable Forward(Variable pairFeatures, int n)
    {
        if (pairFeatures.Shape[2] != PairFeatures.PairCount(n))
            throw new ArgumentException($"PairEmbed: {pairFeatures.Shape[2]} pairs do not belong to N = {n}");
        var elements = Elements(pairFeatures);
        using var map = Tensor.FromArray<int>(elements.Backend, PairFeatures.SymmetricIndex(n), new Shape(n * n));
        var full = Fn.IndexSelect(elements, 2, map);
        return Fn.Reshape(full, elements.Shape[0], Heads, n, n);
    }
}
