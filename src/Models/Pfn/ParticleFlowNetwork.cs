using Hep.Models.Common;
using Hep.Models.Nn;

namespace Hep.Models.Pfn;

/// <summary>
/// Particle Flow Network (Komiske, Metodiev, Thaler; weaver/particle_transformer ParticleFlowNetwork):
/// optional input BatchNorm, per-particle Φ = [1×1 Conv1d → ReLU]…, padded slots zeroed by the mask,
/// sum over particles, F = [Linear → ReLU]… → Linear. Names: input_bn.*, phi.{i}.0.*, fc.{i}.0.*, fc.{n}.*.
/// </summary>
public sealed class ParticleFlowNetwork : Module
{
    private readonly BatchNorm? _inputNorm;
    private readonly List<Conv1x1> _phi = [];
    private readonly FcHead _f;

    public ParticleFlowNetwork(IBackend backend, ParticleFlowNetworkConfig config, ulong seed = 1, DType dtype = DType.Float32)
    {
        Config = config;
        if (config.UseInputBatchNorm) _inputNorm = RegisterModule("input_bn", new BatchNorm(backend, config.InputDims, dtype: dtype));
        int width = config.InputDims;
        for (int i = 0; i < config.PhiSizes.Count; i++)
        {
            _phi.Add(RegisterModule($"phi.{i}.0", new Conv1x1(backend, width, config.PhiSizes[i], seed: seed * 1000 + (ulong)i, dtype: dtype)));
            width = config.PhiSizes[i];
        }
        _f = RegisterModule("fc", new FcHead(backend, width, config.FSizes.Select(s => new FcSpec(s, 0)).ToArray(), config.NumClasses, seed * 1000 + 500, dtype));
    }

    public ParticleFlowNetworkConfig Config { get; }

    /// <summary>features (B, C0, N), mask (B, 1, N) with 1 = real (null = all real) → logits (B, classes).</summary>
    public Variable Forward(Variable features, Tensor? mask)
    {
        if (features.Shape.Rank != 3 || features.Shape[1] != Config.InputDims)
            throw new ArgumentException($"ParticleFlowNetwork: features {features.Shape} must be (B, {Config.InputDims}, N)");
        var x = _inputNorm is null ? features : _inputNorm.Forward(features);
        foreach (var conv in _phi) x = Fn.Relu(conv.Forward(x));
        if (mask is not null)
        {
            using var zero = Tensor.Zeros(mask.Backend, new Shape(), mask.DType);
            using var isZero = TensorOps.Binary(BinaryOp.Equal, mask, zero);
            using var one = Tensor.Full(mask.Backend, new Shape(), 1.0, mask.DType);
            using var real = TensorOps.Sub(one, isZero);
            x = Fn.Mul(x, Variable.Constant(real));
        }
        var logits = _f.Forward(Fn.Sum(x, -1));
        return Config.ForInference ? Fn.Softmax(logits, -1) : logits;
    }
}
