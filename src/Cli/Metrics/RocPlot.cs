using System.Globalization;
using ScottPlot;

namespace Hep.Cli.Metrics;

/// <summary>
/// The tagger ROC plot physicists draw: background rejection 1/ε_B (log scale) against signal efficiency ε_S,
/// one curve per class c ≥ 1 against the first class (for binary: class 1 = signal vs class 0 = background),
/// each labelled with its AUC (<see cref="RocCurve.ForClass"/>), plus the random-guess line 1/ε_S. Written
/// as PNG to a temporary file renamed into place, so an interrupted run never leaves a half-written image.
/// </summary>
public static class RocPlot
{
    /// <summary>Most points drawn per curve (the curve is thinned for drawing only; AUC uses every point).</summary>
    private const int MaxDrawnStepsPerUnit = 2000;

    /// <summary>
    /// Draws the curves of (N, <paramref name="classes"/>) row-major <paramref name="scores"/> with true
    /// <paramref name="labels"/> into <paramref name="pngPath"/> (its folder is created). A class without jets
    /// of its own or of the first class gets no curve; throws <see cref="ArgumentException"/> when none has one.
    /// </summary>
    public static void Write(string pngPath, float[] scores, int[] labels, int classes, string[] labelNames, int width = 800, int height = 600)
    {
        if (classes < 2) throw new ArgumentException($"RocPlot: needs at least 2 classes, got {classes}");
        if (labelNames.Length != classes) throw new ArgumentException($"RocPlot: {labelNames.Length} label names for {classes} classes");
        if (width < 100 || height < 100) throw new ArgumentOutOfRangeException(nameof(width), $"RocPlot: image {width}×{height} is smaller than 100×100");

        var curves = new List<(string Label, RocCurve Curve)>();
        for (int c = 1; c < classes; c++)
        {
            int sig = 0, bkg = 0;
            foreach (int l in labels)
            {
                if (l == c) sig++;
                else if (l == 0) bkg++;
            }
            if (sig == 0 || bkg == 0) continue;
            curves.Add(($"{labelNames[c]} vs {labelNames[0]}", RocCurve.ForClass(scores, labels, classes, c)));
        }
        if (curves.Count == 0)
            throw new ArgumentException($"RocPlot: no class has jets of its own and of the first class '{labelNames[0]}'");

        var png = Render(curves, width, height);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (folder is not null) Directory.CreateDirectory(folder);
        string tmp = pngPath + ".tmp";
        try
        {
            File.WriteAllBytes(tmp, png);
            File.Move(tmp, pngPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    private static byte[] Render(List<(string Label, RocCurve Curve)> curves, int width, int height)
    {
        var plot = new Plot();
        double maxLog = 1;
        foreach (var (label, curve) in curves)
        {
            var (xs, ys) = Drawable(curve);
            if (ys.Length > 0) maxLog = Math.Max(maxLog, ys.Max());
            var line = plot.Add.Scatter(xs, ys);
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = $"{label} (AUC = {curve.Auc.ToString("F4", CultureInfo.InvariantCulture)})";
        }
        // Random guessing: ε_B = ε_S.
        var random = Enumerable.Range(1, 200).Select(i => i / 200.0).Where(x => -Math.Log10(x) <= maxLog).ToArray();
        var guess = plot.Add.Scatter(random, random.Select(x => -Math.Log10(x)).ToArray());
        guess.MarkerSize = 0;
        guess.LineColor = Colors.Gray;
        guess.LinePattern = LinePattern.Dashed;
        guess.LegendText = "random";

        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString(y < 6.5 ? "N0" : "0E0", CultureInfo.InvariantCulture),
        };
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
        plot.Grid.MinorLineWidth = 1;
        plot.Axes.SetLimits(0, 1, 0, Math.Ceiling(maxLog * 1.05 + 1e-9));
        plot.XLabel("Signal efficiency ε(S)");
        plot.YLabel("Background rejection 1 / ε(B)");
        plot.Title("ROC");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>(ε_S, log₁₀ 1/ε_B) of the points with ε_S &gt; 0 and ε_B &gt; 0, thinned to steps of ≥ 1/2000 in ε_S or ≥ 1% in 1/ε_B.</summary>
    private static (double[] X, double[] Y) Drawable(RocCurve curve)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        int last = curve.SignalEfficiency.Length - 1;
        for (int i = 0; i <= last; i++)
        {
            double x = curve.SignalEfficiency[i], b = curve.BackgroundEfficiency[i];
            if (x <= 0 || b <= 0) continue;
            double y = -Math.Log10(b);
            if (i != last && xs.Count > 0 && x - xs[^1] < 1.0 / MaxDrawnStepsPerUnit && Math.Abs(ys[^1] - y) < Math.Log10(1.01)) continue;
            xs.Add(x);
            ys.Add(y);
        }
        return ([.. xs], [.. ys]);
    }
}
