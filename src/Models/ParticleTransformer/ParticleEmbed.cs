using Hep.Models.Nn;

namespace Hep.Models.ParticleTransformer;

/// <summary>
/// ParT's particle embedding (weaver Embed): BatchNorm1d over the input features (B, C0, N), then
/// per particle [LayerNorm → Linear → GELU] for each width (names embed.{3i}, embed.{3i+1}).
/// Output (B, N, E), batch-first.
/// </summary>
public sealed class ParticleEmbed : Module
{
    private readonly BatchNorm _inputNorm;
    private readonly List<(LayerNorm Norm, Linear Linear)> _layers = [];

    public ParticleEmbed(IBackend backend, int inputDim, IReadOnlyList<int> dims, ulong seed, DType dtype = DType.Float32)
    {
        _inputNorm = RegisterModule("input_bn", new BatchNorm(backend, inputDim, dtype: dtype));
        int input = inputDim;
        for (int i = 0; i < dims.Count; i++)
        {
            var norm = RegisterModule($"embed.{3 * i}", new LayerNorm(backend, input, dtype: dtype));
            var linear = RegisterModule($"embed.{3 * i + 1}", new Linear(backend, input, dims[i], seed: seed + (ulong)i, dtype: dtype));
            _layers.Add((norm, linear));
            input = dims[i];
        }
    }

    /// <summary>features (B, C0, N) → (B, N, E).</summary>
    public Variable Forward(Variable features)
    {
        var x = Fn.Permute(_inputNorm.Forward(features), 0, 2, 1);
        foreach (var (norm, linear) in _layers) x = linear.Forward(norm.Forward(x), GemmActivation.Gelu);
        return x;
    }

    /// <summary>
    /// features (B, C0, N) → the real particles' embeddings (R, E): batch norm over every slot (its
    /// statistics include the padded ones, as weaver's), then the per-particle layers on the real rows only.
    /// </summary>
    public Variable Forward(Variable features, PackedRows rows)
    {
        var normed = Fn.Contiguous(Fn.Permute(_inputNorm.Forward(features), 0, 2, 1)); // (B, N, C0)
        var x = rows.Pack(normed);                                                      // (R, C0)
        foreach (var (norm, linear) in _layers) x = linear.Forward(norm.Forward(x), GemmActivation.Gelu);
        return x;
    }
}
