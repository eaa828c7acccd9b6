using Hep.Engine;

namespace Hep.TestSupport;

/// <summary>
/// Value assertions with a mixed tolerance |a − e| ≤ atol + rtol·|e|. Reports the first few
/// mismatches with their flat index; NaN must match NaN; the expected data must not be degenerate
/// (all zero) unless explicitly allowed, so an all-zero output cannot pass by accident.
/// </summary>
public static class TensorAssert
{
    public static void Close(Tensor actual, double[] expected, double atol, double rtol, string label = "", bool allowAllZero = false) =>
        Close(actual.ToDoubleArray(), expected, atol, rtol, label, allowAllZero);

    public static void Close(Tensor actual, Tensor expected, double atol, double rtol, string label = "", bool allowAllZero = false)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{label}: shape");
        Close(actual.ToDoubleArray(), expected.ToDoubleArray(), atol, rtol, label, allowAllZero);
    }

    public static void Close(IReadOnlyList<double> actual, IReadOnlyList<double> expected, double atol, double rtol, string label = "", bool allowAllZero = false)
    {
        Assert.That(actual.Count, Is.EqualTo(expected.Count), $"{label}: element count");
        if (!allowAllZero && expected.Count > 0)
            Assert.That(expected.Any(v => v != 0), Is.True, $"{label}: expected values are all zero (degenerate check)");
        var bad = new List<string>();
        double maxDiff = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (double.IsInfinity(e) && a == e) continue;
            double diff = Math.Abs(a - e);
            if (double.IsNaN(diff) || diff > atol + rtol * Math.Abs(e))
            {
                if (bad.Count < 5) bad.Add($"[{i}] actual {a:R} expected {e:R}");
                else if (bad.Count == 5) bad.Add("…");
            }
            if (!double.IsNaN(diff)) maxDiff = Math.Max(maxDiff, diff);
        }
        Assert.That(bad, Is.Empty, $"{label}: mismatches (max |diff| {maxDiff:G3}, atol {atol}, rtol {rtol}): {string.Join("; ", bad)}");
    }
}
