// ExpectedValuesTests: every branch of every file listed in expected_values_jsroot.jsonl (jsroot,
// an independent reader) must give the same first entries, element count and sum over all
// entries. Layouts genuinely out of scope are listed in Skipped with a reason, and the number of
// skipped cases is bounded so that a regression cannot hide behind the skip list.
using System.Text;
using System.Text.Json;
using Hep.RootIO.Tests.Support;
using Hep.RootIO.Trees;

namespace Hep.RootIO.Tests;

[TestFixture]
public class ExpectedValuesTests
{
    /// <summary>Branches of the oracle we do not read, with the reason. Keep this short.</summary>
    private static readonly Dictionary<string, string> Skipped = new()
    {
    };

    private const int MaxSkipped = 3;

    private static IEnumerable<TestCaseData> Cases() =>
        ExpectedValues.All.Select(e => new TestCaseData(e).SetName($"Oracle({e.File}, {e.Branch})"));

    [Test]
    public void OracleCoversAllSupportedFiles()
    {
        var files = ExpectedValues.All.Select(e => e.File).Distinct().ToList();
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(20));
        Assert.That(ExpectedValues.All.Count, Is.GreaterThan(250));
        Assert.That(Skipped, Has.Count.LessThanOrEqualTo(MaxSkipped));
    }

    [TestCaseSource(nameof(Cases))]
    public void BranchMatchesJsroot(object boxed)
    {
        var e = (ExpectedBranch)boxed;
        if (Skipped.TryGetValue($"{e.File}:{e.Branch}", out var reason)) Assert.Ignore(reason);

        var tree = OpenFiles.Tree(e.File, e.Tree);
        Assert.That(tree.Entries, Is.EqualTo(e.Entries), "entry count");
        var col = OpenFiles.Column(e.File, e.Tree, e.Branch);
        Assert.That(col.EntryCount, Is.EqualTo(e.Entries));

        int i = 0;
        foreach (var first in e.First.EnumerateArray())
        {
            AssertEntry(first, col, i, $"{e.Branch}[{i}]");
            i++;
        }

        bool isString = e.First.EnumerateArray().Any(x => x.ValueKind == JsonValueKind.String);
        long count = isString ? col.EntryCount : col.Values.Length;
        Assert.That(count, Is.EqualTo(e.Count), "element count");
        if (e.Sum is double sum)
            Assert.That(col.Sum(), Is.EqualTo(sum).Within(1e-9 * Math.Max(1, Math.Abs(sum))), "sum over all entries");
    }

    private static void AssertEntry(JsonElement expected, ColumnData col, int entry, string what)
    {
        var (start, stop) = col.EntryRange(entry);
        switch (expected.ValueKind)
        {
            case JsonValueKind.Number:
            case JsonValueKind.True:
            case JsonValueKind.False:
                Assert.That(stop - start, Is.EqualTo(1), $"{what}: expected a scalar");
                Assert.That(col.GetDouble(start), Is.EqualTo(ToDouble(expected)), what);
                break;
            case JsonValueKind.String:
                // jsroot shows Char_t[n] arrays as strings (Latin-1, NUL-terminated).
                var sb = new StringBuilder();
                for (int k = start; k < stop; k++)
                {
                    int v = (int)col.GetDouble(k) & 0xFF;
                    if (v == 0) break;
                    sb.Append((char)v);
                }
                Assert.That(sb.ToString(), Is.EqualTo(expected.GetString()), what);
                break;
            case JsonValueKind.Array when col.InnerOffsets is not null:
                var outer = expected.EnumerateArray().ToList();
                int o0 = col.Offsets![entry];
                Assert.That(col.Offsets[entry + 1] - o0, Is.EqualTo(outer.Count), $"{what}: inner vector count");
                for (int j = 0; j < outer.Count; j++)
                {
                    var items = outer[j].EnumerateArray().Select(ToDouble).ToArray();
                    int s = col.InnerOffsets[o0 + j], t = col.InnerOffsets[o0 + j + 1];
                    Assert.That(Enumerable.Range(s, t - s).Select(col.GetDouble).ToArray(), Is.EqualTo(items), $"{what}[{j}]");
                }
                break;
            case JsonValueKind.Array:
                var values = expected.EnumerateArray().Select(ToDouble).ToArray();
                Assert.That(Enumerable.Range(start, stop - start).Select(col.GetDouble).ToArray(), Is.EqualTo(values), what);
                break;
            default:
                Assert.Fail($"{what}: unexpected JSON {expected}");
                break;
        }
    }

    private static double ToDouble(JsonElement x) => x.ValueKind switch
    {
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        _ => x.GetDouble(),
    };
}
