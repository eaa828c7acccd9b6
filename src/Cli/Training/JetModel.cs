using Hep.Autograd;
using Hep.Cli.Options;
using Hep.Engine;
using Hep.Models.Nn;
using Hep.Models.ParticleNet;
using Hep.Models.ParticleTransformer;
using Hep.Models.Pfn;

namespace Hep.Cli.Training;

/// <summary>One batch of padded jets on a backend: features (B, C, N), points (B, 2, N), 4-vectors (B, 4, N), mask (B, 1, N), labels (B).</summary>
public sealed record JetBatch(Tensor Features, Tensor Points, Tensor Vectors, Tensor Mask, Tensor Labels);

/// <summary>A particle-level model behind one call: logits (B, classes) for a <see cref="JetBatch"/>.</summary>
public sealed class JetModel(Module module, Func<JetBatch, Variable> forward, string description) : IDisposable
{
    public Module Module { get; } = module;
    public string Description { get; } = description;

    public Variable Forward(JetBatch batch) => forward(batch);

    public void Dispose() => Module.Dispose();

    /// <summary>PN | PN-Lite | ParT | ParT-plain | PFN from the users' flags.</summary>
    public static JetModel Create(IBackend backend, ParsedFlags flags, int inputs, int classes, int seed)
    {
        string arch = flags.String("arch")!;
        ulong s = (ulong)seed;
        try
        {
            switch (arch.ToLowerInvariant())
            {
                case "pn":
                case "pn-lite":
                {
                    var config = arch.Equals("pn-lite", StringComparison.OrdinalIgnoreCase) && !flags.Has("EdgeConv_config")
                        ? ParticleNetConfig.Lite(inputs, classes)
                        : ParticleNetConfig.Parse(inputs, classes, flags.String("EdgeConv_config")!, flags.String("fcs")!);
                    int kMax = config.EdgeConvs.Max(e => e.K);
                    if (flags.Int("fixed_length") < kMax + 1)
                        throw new CliException($"flag --fixed_length: {flags.Int("fixed_length")} is smaller than k + 1 = {kMax + 1} for ParticleNet");
                    var pn = new ParticleNet(backend, config, s);
                    return new JetModel(pn, b => pn.Forward(b.Points, Variable.Constant(b.Features), b.Mask), $"ParticleNet {config}");
                }
                case "part":
                case "part-plain":
                {
                    bool plain = arch.Equals("part-plain", StringComparison.OrdinalIgnoreCase);
                    var config = new ParticleTransformerConfig(inputs, classes)
                    {
                        NumHeads = flags.Int("num_heads"),
                        NumLayers = flags.Int("num_layers"),
                        PairInputDim = plain ? 0 : 4,
                    };
                    var part = new ParticleTransformer(backend, config, s);
                    return new JetModel(part, b => part.Forward(Variable.Constant(b.Features), plain ? null : b.Vectors, b.Mask),
                        $"Particle Transformer{(plain ? " (plain)" : "")} heads {config.NumHeads} layers {config.NumLayers}");
                }
                case "pfn":
                {
                    var pfn = new ParticleFlowNetwork(backend, new ParticleFlowNetworkConfig(inputs, classes), s);
                    return new JetModel(pfn, b => pfn.Forward(Variable.Constant(b.Features), b.Mask), "PFN");
                }
                default:
                    throw new CliException($"flag --arch: unknown architecture '{arch}' (PN | PN-Lite | ParT | ParT-plain | PFN | MLP)");
            }
        }
        catch (FormatException e)
        {
            throw new CliException($"flag --{(e.Message.StartsWith("fcs", StringComparison.Ordinal) ? "fcs" : "EdgeConv_config")}: {e.Message}");
        }
    }
}
