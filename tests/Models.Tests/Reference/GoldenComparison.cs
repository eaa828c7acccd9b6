using Hep.Models.Checkpoints;
using Hep.Models.Nn;

namespace Hep.Models.Tests.Reference;

/// <summary>
/// Compares a model's outputs, gradients and BatchNorm statistics with a golden case by name, prints the
/// largest difference per tensor (absolute, and relative to the tensor's largest golden value), and
/// collects every violation of the case's tolerances so one run reports all of them.
/// </summary>
internal sealed class GoldenComparison(GoldenCase golden)
{
    private readonly List<string> _failures = [];

    public double WorstGradRelative { get; private set; }
    public string WorstGradTensor { get; private set; } = "";

    /// <summary>Elementwise |x − g| ≤ abs + rel·|g|.</summary>
    public void Elementwise(string label, double[] actual, double[] expected, double abs, double rel)
    {
        if (actual.Length != expected.Length)
        {
            _failures.Add($"{label}: {actual.Length} values, golden has {expected.Length}");
            return;
        }
        double maxDiff = 0, maxRel = 0;
        int bad = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, d);
            maxRel = Math.Max(maxRel, d / Math.Max(Math.Abs(expected[i]), 1e-30));
            if (d > abs + rel * Math.Abs(expected[i])) bad++;
        }
        TestContext.Out.WriteLine($"{golden.Name} {label}: max |diff| {maxDiff:E2}, max rel {maxRel:E2}{(bad > 0 ? $"  FAIL ({bad} elements)" : "")}");
        if (bad > 0) _failures.Add($"{label}: {bad} elements outside abs {abs} + rel {rel} (max |diff| {maxDiff:E3})");
    }

    /// <summary>
    /// Every parameter gradient against grad.&lt;weaver name&gt;: max|x − g| ≤ r·max|g| + a·G with G the largest
    /// golden gradient of the case; also every golden gradient must have a model counterpart.
    /// </summary>
    public void Gradients(Module model)
    {
        double r = golden.Tolerance("grad", "rel_to_tensor_max"), a = golden.Tolerance("grad", "abs_to_largest_grad");
        var goldenGrads = golden.Outputs.Where(kv => kv.Key.StartsWith("grad.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubles());
        double largest = goldenGrads.Values.Max(g => g.Max(Math.Abs));
        var seen = new HashSet<string>();
        foreach (var (name, p) in model.NamedParameters())
        {
            string key = "grad." + WeaverNames.ToWeaver(name);
            if (!goldenGrads.TryGetValue(key, out var expected))
            {
                _failures.Add($"{key}: no golden gradient for model parameter {name}");
                continue;
            }
            seen.Add(key);
            if (p.Grad is null)
            {
                _failures.Add($"{key}: model parameter has no gradient");
                continue;
            }
            var actual = p.Grad.ToDoubleArray();
            double maxDiff = 0, scale = expected.Max(Math.Abs);
            for (int i = 0; i < actual.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            double relToMax = maxDiff / Math.Max(scale, 1e-30);
            bool ok = maxDiff <= r * scale + a * largest;
            if (relToMax > WorstGradRelative && scale > a * largest)
            {
                WorstGradRelative = relToMax;
                WorstGradTensor = key;
            }
            TestContext.Out.WriteLine($"{golden.Name} {key}: max |diff| {maxDiff:E2}, relative to max|grad| {scale:E2}: {relToMax:E2}{(ok ? "" : "  FAIL")}");
            if (!ok) _failures.Add($"{key}: max |diff| {maxDiff:E3} > {r}·{scale:E3} + {a}·{largest:E3}");
        }
        foreach (var key in goldenGrads.Keys.Where(k => !seen.Contains(k))) _failures.Add($"{key}: golden gradient without a model parameter");
    }

    /// <summary>Running statistics after the train-mode forward against bn_after.&lt;name&gt;.</summary>
    public void BatchNormStatistics(Module model)
    {
        double abs = golden.Tolerance("bn_after", "abs"), rel = golden.Tolerance("bn_after", "rel");
        int compared = 0;
        foreach (var (name, buffer) in model.NamedBuffers())
        {
            string key = "bn_after." + WeaverNames.ToWeaver(name);
            if (!golden.Outputs.TryGetValue(key, out var expected))
            {
                _failures.Add($"{key}: missing in golden outputs");
                continue;
            }
            compared++;
            Elementwise(key, buffer.ToDoubleArray(), expected.ToDoubles(), abs, rel);
        }
        if (compared == 0) _failures.Add("no BatchNorm statistics compared");
    }

    public void AssertAll()
    {
        if (WorstGradTensor.Length > 0) TestContext.Out.WriteLine($"{golden.Name}: worst gradient {WorstGradTensor} at {WorstGradRelative:E2} of its max");
        Assert.That(_failures, Is.Empty, string.Join("\n", _failures));
    }
}
