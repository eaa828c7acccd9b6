// ExpectedValues: the jsroot-written oracle (expected_values_jsroot.jsonl): per file, tree and
// branch, the first entries, the element count and the float64 sum over all entries.
using System.Text.Json;

namespace Hep.RootIO.Tests.Support;

internal sealed record ExpectedBranch(string File, string Tree, long Entries, string Branch, JsonElement First, long Count, double? Sum)
{
    public override string ToString() => $"{File}:{Branch}";
}

internal static class ExpectedValues
{
    private static readonly Lazy<IReadOnlyList<ExpectedBranch>> s_all = new(Load);

    public static IReadOnlyList<ExpectedBranch> All => s_all.Value;

    private static IReadOnlyList<ExpectedBranch> Load()
    {
        string path = Path.Combine(TestData.RootFiles, "expected_values_jsroot.jsonl");
        var result = new List<ExpectedBranch>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var doc = JsonDocument.Parse(line).RootElement;
            string file = doc.GetProperty("file").GetString()!;
            string tree = doc.GetProperty("tree").GetString()!;
            long entries = doc.GetProperty("entries").GetInt64();
            foreach (var b in doc.GetProperty("branches").EnumerateObject())
            {
                var sum = b.Value.GetProperty("sum");
                result.Add(new ExpectedBranch(file, tree, entries, b.Name, b.Value.GetProperty("first").Clone(),
                    b.Value.GetProperty("count").GetInt64(), sum.ValueKind == JsonValueKind.Number ? sum.GetDouble() : null));
            }
        }
        return result;
    }
}
