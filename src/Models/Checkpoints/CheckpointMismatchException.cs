namespace Hep.Models.Checkpoints;

/// <summary>
/// A checkpoint whose keys do not fit the model: lists every missing key (model tensor without a
/// checkpoint value), unexpected key (checkpoint tensor the model does not have) and wrongly shaped key.
/// </summary>
public sealed class CheckpointMismatchException(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    : Exception(Describe(missing, unexpected, misShaped))
{
    public IReadOnlyList<string> Missing { get; } = missing;
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    public IReadOnlyList<string> MisShaped { get; } = misShaped;

    private static string Describe(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing keys: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected keys: {string.Join(", ", unexpected)}");
        if (misShaped.Count > 0) parts.Add($"wrongly shaped keys: {string.Join(", ", misShaped)}");
        return "checkpoint does not match the model: " + string.Join("; ", parts);
    }
}
