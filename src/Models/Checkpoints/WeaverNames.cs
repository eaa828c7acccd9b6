namespace Hep.Models.Checkpoints;

/// <summary>
/// Maps weaver / particle_transformer state-dict names onto ours. The wrappers hold the network as
/// <c>self.mod</c>, so keys carry a "mod." prefix that is removed; our modules otherwise use weaver's
/// names and PyTorch's shapes (edge_convs.0.convs.0.weight (O, C, 1, 1), blocks.0.attn.in_proj_weight, …).
/// BatchNorm's <c>num_batches_tracked</c> counters have no counterpart and are skipped (null).
/// </summary>
public static class WeaverNames
{
    public const string WrapperPrefix = "mod.";

    /// <summary>Our parameter/buffer name for a checkpoint key, or null for keys that are deliberately ignored.</summary>
    public static string? Map(string key)
    {
        if (key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) || key == "num_batches_tracked") return null;
        return key.StartsWith(WrapperPrefix, StringComparison.Ordinal) ? key[WrapperPrefix.Length..] : key;
    }

    /// <summary>The checkpoint key weaver uses for one of our names (the inverse of <see cref="Map"/>).</summary>
    public static string ToWeaver(string name) => WrapperPrefix + name;
}
