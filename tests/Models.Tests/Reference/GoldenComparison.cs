using Hep.Models.Checkpoints;
using Hep.Models.Nn;

namespace Hep.Models.Tests.Reference;

/// <summary>
/// Compares a model's outputs, gradients and BatchNorm statistics with a golden case by name, prints the
/// largest difference per tensor, and collects every violation so one run reports all of them.
///
/// The metric (<see cref="Relative"/>) is the normwise relative difference in the ∞-norm,
/// max_i |x_i − g_i| / max_i |g_i|, required ≤ 1e-4 (<see cref="Required"/>): float32 rounding noise
/// of a tensor scales with the tensor's magnitude, not with each element (an element that is small by
/// cancellation carries the absolute noise of its large neighbours), which is also how the golden README
/// normalises gradients; for the scalar loss it is the plain relative difference. The gradients that are
/// zero in exact arithmetic (case.json checks.grads_zero_in_exact_arithmetic: ParT biases right before a
/// train-mode BatchNorm, golden values ~1e-6 of float32 noise) have no magnitude of their own and are
/// normalised by the case's largest gradient instead.
/// </summary>
internal sealed class GoldenComparison(GoldenCase golden)
{
    /// <summary>Required agreement of logits, loss, every gradient and every BatchNorm statistic.</summary>
    public const double Required = 1e-4;

    private readonly List<string> _failures = [];
    private double _worst = -1;
    private string _worstLabel = "";

    /// <summary>max|x − g| ≤ rel·scale with scale = max|g| unless given; prints max |diff|, scale and ratio.</summary>
    public void Relative(string label, double[] actual, double[] expected, double rel = Required, double? scale = null)
    {
        if (actual.Length != expected.Length)
        {
            _failures.Add($"{label}: {actual.Length} values, golden has {expected.Length}");
            return;
        }
        double maxDiff = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            maxDiff = Math.Max(maxDiff, double.IsNaN(d) ? double.PositiveInfinity : d);
        }
        double s = scale ?? expected.Max(Math.Abs);
        double ratio = maxDiff / Math.Max(s, 1e-30);
        bool ok = maxDiff <= rel * s;
        if (ratio > _worst)
        {
            _worst = ratio;
            _worstLabel = label;
        }
        TestContext.Out.WriteLine($"{golden.Name} {label}: max |diff| {maxDiff:E2} / {(scale is null ? "max |golden|" : "scale")} {s:E2} = {ratio:E2}{(ok ? "" : $"  FAIL (> {rel:G2})")}");
        if (!ok) _failures.Add($"{label}: max |diff| {maxDiff:E3} > {rel:G2} · {s:E3}");
    }

    /// <summary>Elementwise |x − g| ≤ abs + rel·|g| (bounds that are not about rounding, e.g. kNN tie resolution).</summary>
    public void Elementwise(string label, double[] actual, double[] expected, double abs, double rel)
    {
        if (actual.Length != expected.Length)
        {
            _failures.Add($"{label}: {actual.Length} values, golden has {expected.Length}");
            return;
        }
        double maxDiff = 0;
        int bad = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, d);
            if (d > abs + rel * Math.Abs(expected[i])) bad++;
        }
        TestContext.Out.WriteLine($"{golden.Name} {label}: max |diff| {maxDiff:E2}{(bad > 0 ? $"  FAIL ({bad} elements)" : "")}");
        if (bad > 0) _failures.Add($"{label}: {bad} elements outside abs {abs} + rel {rel} (max |diff| {maxDiff:E3})");
    }

    /// <summary>The train-mode logits and loss against logits_train and loss.</summary>
    public void LogitsAndLoss(Variable logits, Variable loss)
    {
        Relative("logits_train", logits.Data.ToDoubleArray(), golden.Outputs["logits_train"].ToDoubles());
        Relative("loss", [loss.Data.Item()], golden.Outputs["loss"].ToDoubles());
    }

    /// <summary>
    /// Every parameter gradient against grad.&lt;weaver name&gt; (<see cref="Relative"/> at <paramref name="rel"/>),
    /// the gradients zero in exact arithmetic normalised by the case's largest gradient; every golden
    /// gradient must have a model counterpart and vice versa.
    /// </summary>
    public void Gradients(Module model, double rel = Required)
    {
        var goldenGrads = golden.Outputs.Where(kv => kv.Key.StartsWith("grad.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubles());
        double largest = goldenGrads.Values.Max(g => g.Max(Math.Abs));
        var zeroInExactArithmetic = golden.GradientsZeroInExactArithmetic;
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
            if (zeroInExactArithmetic.Contains(key)) Relative($"{key} (zero in exact arithmetic; scale = largest gradient)", p.Grad.ToDoubleArray(), expected, rel, largest);
            else Relative(key, p.Grad.ToDoubleArray(), expected, rel);
        }
        foreach (var key in goldenGrads.Keys.Where(k => !seen.Contains(k))) _failures.Add($"{key}: golden gradient without a model parameter");
    }

    /// <summary>Running statistics after the train-mode forward against bn_after.&lt;name&gt;.</summary>
    public void BatchNormStatistics(Module model)
    {
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
            Relative(key, buffer.ToDoubleArray(), expected.ToDoubles());
        }
        if (compared == 0) _failures.Add("no BatchNorm statistics compared");
    }

    public void AssertAll()
    {
        if (_worstLabel.Length > 0) TestContext.Out.WriteLine($"{golden.Name}: largest relative difference {_worst:E2} ({_worstLabel})");
        Assert.That(_failures, Is.Empty, string.Join("\n", _failures));
    }
}
