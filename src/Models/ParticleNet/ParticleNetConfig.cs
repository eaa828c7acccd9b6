using System.Globalization;
using System.Text.Json;

namespace Hep.Models.ParticleNet;

/// <summary>One EdgeConv block: k neighbours and the output channels of its 1×1 conv layers.</summary>
public sealed record EdgeConvSpec(int K, IReadOnlyList<int> Channels);

/// <summary>
/// ParticleNet hyper-parameters with weaver-core v0.4.17's meaning (spec §1): EdgeConv blocks
/// (k, channels), FC head (units, dropout), and the use_fts_bn / use_counts / use_fusion options.
/// <see cref="Parse"/> reads the users' <c>--EdgeConv_config='[[16,[64,64,64]],…]'</c> and
/// <c>--fcs='[[256,0.1]]'</c> strings.
/// </summary>
public sealed record ParticleNetConfig(
    int InputDims,
    int NumClasses,
    IReadOnlyList<EdgeConvSpec> EdgeConvs,
    IReadOnlyList<FcSpec> Fcs,
    bool UseFusion = false,
    bool UseFtsBn = true,
    bool UseCounts = true,
    bool ForInference = false)
{
    /// <summary>The paper / JetClass-baseline ParticleNet: k = 16, (64,128,256)×3, fc 256 (p = 0.1), no fusion.</summary>
    public static ParticleNetConfig Paper(int inputDims, int numClasses) => new(inputDims, numClasses,
        [new(16, [64, 64, 64]), new(16, [128, 128, 128]), new(16, [256, 256, 256])], [new(256, 0.1)]);

    /// <summary>ParticleNet-Lite: k = 7, (32, 64)×3, fc 128 (p = 0.1), no fusion.</summary>
    public static ParticleNetConfig Lite(int inputDims, int numClasses) => new(inputDims, numClasses,
        [new(7, [32, 32, 32]), new(7, [64, 64, 64])], [new(128, 0.1)]);

    /// <summary>Channels entering the head: the fusion width, or the last block's last channel count.</summary>
    public int PooledChannels => UseFusion ? FusionChannels : EdgeConvs[^1].Channels[^1];

    /// <summary>Fusion conv width: clip(⌊ΣC_last/128⌋·128, 128, 1024).</summary>
    public int FusionChannels => Math.Clamp(EdgeConvs.Sum(e => e.Channels[^1]) / 128 * 128, 128, 1024);

    /// <summary>Builds a configuration from the CLI's JSON-like EdgeConv and FC strings.</summary>
    public static ParticleNetConfig Parse(int inputDims, int numClasses, string edgeConvConfig, string fcs,
        bool useFusion = false, bool useFtsBn = true, bool useCounts = true)
    {
        var convs = new List<EdgeConvSpec>();
        using (var doc = ParseJson(edgeConvConfig, "EdgeConv_config"))
        {
            foreach (var block in doc.RootElement.EnumerateArray())
            {
                if (block.ValueKind != JsonValueKind.Array || block.GetArrayLength() != 2 || block[1].ValueKind != JsonValueKind.Array)
                    throw new FormatException($"EdgeConv_config: each block must be [k, [c1, c2, …]], got {block.GetRawText()}");
                var channels = block[1].EnumerateArray().Select(c => c.GetInt32()).ToArray();
                if (channels.Length == 0 || block[0].GetInt32() < 1 || channels.Any(c => c < 1))
                    throw new FormatException($"EdgeConv_config: bad block {block.GetRawText()}");
                convs.Add(new EdgeConvSpec(block[0].GetInt32(), channels));
            }
        }
        if (convs.Count == 0) throw new FormatException("EdgeConv_config: at least one block is needed");
        var fc = new List<FcSpec>();
        using (var doc = ParseJson(fcs, "fcs"))
        {
            foreach (var layer in doc.RootElement.EnumerateArray())
            {
                if (layer.ValueKind != JsonValueKind.Array || layer.GetArrayLength() != 2)
                    throw new FormatException($"fcs: each layer must be [units, dropout], got {layer.GetRawText()}");
                double p = layer[1].GetDouble();
                if (layer[0].GetInt32() < 1 || p < 0 || p >= 1) throw new FormatException($"fcs: bad layer {layer.GetRawText()}");
                fc.Add(new FcSpec(layer[0].GetInt32(), p));
            }
        }
        return new ParticleNetConfig(inputDims, numClasses, convs, fc, useFusion, useFtsBn, useCounts);
    }

    private static JsonDocument ParseJson(string text, string flag)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text.Replace('(', '[').Replace(')', ']'));
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{flag}: cannot parse '{text}': {ex.Message}", ex);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            doc.Dispose();
            throw new FormatException($"{flag}: expected a list, got '{text}'");
        }
        return doc;
    }

    public override string ToString() =>
        $"ParticleNet({InputDims}→{NumClasses}, conv [{string.Join(", ", EdgeConvs.Select(e => $"({e.K}, ({string.Join(",", e.Channels)}))"))}], " +
        $"fc [{string.Join(", ", Fcs.Select(f => $"({f.Units}, {f.Dropout.ToString(CultureInfo.InvariantCulture)})"))}], " +
        $"fusion {UseFusion}, fts_bn {UseFtsBn}, counts {UseCounts})";
}
