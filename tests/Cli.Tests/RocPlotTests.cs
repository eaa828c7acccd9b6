using System.Buffers.Binary;
using Hep.Cli.Metrics;

namespace Hep.Cli.Tests;

public class RocPlotTests
{
    // Hand-worked example: 3 signal, 4 background, one signal/background tie at 0.7.
    private static readonly double[] Disc = [0.9, 0.8, 0.7, 0.7, 0.4, 0.2, 0.1];
    private static readonly bool[] Signal = [true, false, true, false, true, false, false];

    [Test]
    public void CurveMatchesHandComputedPoints()
    {
        var roc = RocCurve.Compute(Disc, Signal);
        Assert.That(roc.Thresholds, Is.EqualTo(new[] { double.PositiveInfinity, 0.9, 0.8, 0.7, 0.4, 0.2, 0.1 }));
        Assert.That(roc.SignalEfficiency, Is.EqualTo(new[] { 0, 1 / 3.0, 1 / 3.0, 2 / 3.0, 1, 1, 1 }).Within(1e-15));
        Assert.That(roc.BackgroundEfficiency, Is.EqualTo(new[] { 0, 0, 0.25, 0.5, 0.5, 0.75, 1 }).Within(1e-15));
        // Pairs (signal, background) ranked correctly: 4 + (2 + ½ for the tie) + 2 = 8.5 of 12.
        Assert.That(roc.Auc, Is.EqualTo(8.5 / 12).Within(1e-15));
        Assert.That((roc.SignalCount, roc.BackgroundCount), Is.EqualTo((3, 4)));
        // ε_S = 50% needs 2 signal jets: the cut at 0.7 keeps 2 of 4 background jets.
        Assert.That(roc.RejectionAt(0.5), Is.EqualTo(2));
        Assert.That(roc.RejectionAt(0.3), Is.EqualTo(double.PositiveInfinity)); // 1 signal jet, no background above 0.9
        var list = Disc.Zip(Signal, (d, s) => (d, s)).ToList();
        Assert.That(roc.RejectionAt(0.5), Is.EqualTo(ClassificationMetrics.Rejection(list, 0.5)));
        Assert.That(roc.Auc, Is.EqualTo(ClassificationMetrics.RocAuc(Disc, Signal)).Within(1e-15));
    }

    [Test]
    public void MultiClassCurvesUseTheScoreRatioAgainstTheFirstClass()
    {
        float[] scores =
        [
            0.6f, 0.3f, 0.1f,   // class 0
            0.2f, 0.2f, 0.6f,   // class 2
            0.1f, 0.8f, 0.1f,   // class 1 (not in the class-2 curve)
            0.5f, 0.0f, 0.5f,   // class 2
            0.3f, 0.1f, 0.6f,   // class 0
        ];
        int[] labels = [0, 2, 1, 2, 0];
        // Class 2: signal ratios 0.75, 0.5; background 1/7, 2/3.
        var c2 = RocCurve.ForClass(scores, labels, 3, 2);
        Assert.That(c2.SignalEfficiency, Is.EqualTo(new[] { 0, 0.5, 0.5, 1, 1 }));
        Assert.That(c2.BackgroundEfficiency, Is.EqualTo(new[] { 0, 0, 0.5, 0.5, 1 }));
        Assert.That(c2.Thresholds.Skip(1), Is.EqualTo(new[] { 0.75, 2 / 3.0, 0.5, 1 / 7.0 }).Within(1e-7));
        Assert.That(c2.Auc, Is.EqualTo(0.75));
        // Class 1: its one jet (0.8/0.9) above both class-0 jets (1/3, 1/4).
        var c1 = RocCurve.ForClass(scores, labels, 3, 1);
        Assert.That((c1.SignalCount, c1.BackgroundCount, c1.Auc), Is.EqualTo((1, 2, 1.0)));
        Assert.That(c1.BackgroundEfficiency, Is.EqualTo(new[] { 0, 0, 0.5, 1 }));
    }

    [Test]
    public void BinaryCurveAgreesWithClassificationMetrics()
    {
        var rng = new Random(7);
        int n = 3000;
        var labels = new int[n];
        var scores = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.Next(2);
            // Quantised scores, so many ties between classes.
            float s1 = MathF.Round(Math.Clamp((float)(0.5 + 0.25 * (labels[i] == 1 ? 1 : -1) + 0.8 * (rng.NextDouble() - 0.5)), 0, 1) * 50) / 50;
            scores[2 * i + 1] = s1;
            scores[2 * i] = 1 - s1;
        }
        var roc = RocCurve.ForClass(scores, labels, 2, 1);
        var metrics = ClassificationMetrics.Compute(scores, labels, 2, ["bkg", "sig"]);
        Assert.That(roc.Auc, Is.EqualTo(metrics.Auc).Within(1e-12));
        Assert.That(roc.Auc, Is.InRange(0.8, 0.999));
        Assert.That(roc.RejectionAt(0.5), Is.EqualTo(metrics.RejectionAt50).Within(1e-9));
        Assert.That(roc.RejectionAt(0.3), Is.EqualTo(metrics.RejectionAt30).Within(1e-9));
    }

    [Test]
    public void RejectsNaNAndMissingClasses()
    {
        Assert.Throws<ArgumentException>(() => RocCurve.Compute([0.1, double.NaN], [true, false]));
        Assert.Throws<ArgumentException>(() => RocCurve.Compute([0.1, 0.2], [true, true]));
    }

    [TestCase(2, 640, 480)]
    [TestCase(3, 801, 333)]
    public void WritesAValidPngOfTheRequestedSizeAtomically(int classes, int width, int height)
    {
        string dir = Path.Combine(Path.GetTempPath(), "hep-roc-" + Guid.NewGuid().ToString("N"));
        try
        {
            var rng = new Random(3);
            int n = 500;
            var labels = Enumerable.Range(0, n).Select(i => i % classes).ToArray();
            var scores = new float[n * classes];
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int c = 0; c < classes; c++) sum += scores[i * classes + c] = (float)(rng.NextDouble() + (labels[i] == c ? 1.0 : 0));
                for (int c = 0; c < classes; c++) scores[i * classes + c] /= (float)sum;
            }
            string[] names = classes == 2 ? ["QCD", "top"] : ["QCD", "top", "W"];
            string path = Path.Combine(dir, "sub", "roc.png");
            File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "sub")).FullName, "roc.png"), [1, 2, 3]); // replaced
            RocPlot.Write(path, scores, labels, classes, names, width, height);

            var bytes = File.ReadAllBytes(path);
            Assert.That(bytes.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
            Assert.That(System.Text.Encoding.ASCII.GetString(bytes, 12, 4), Is.EqualTo("IHDR"));
            Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), Is.EqualTo(width));
            Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)), Is.EqualTo(height));
            Assert.That(System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4), Is.EqualTo("IEND"));
            Assert.That(bytes.Length, Is.GreaterThan(5000), "a drawn plot, not an empty image");
            Assert.That(Directory.GetFiles(Path.Combine(dir, "sub")).Select(Path.GetFileName), Is.EqualTo(new[] { "roc.png" }), "no temporary file left");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void NoCurveIsAnErrorAndWritesNothing()
    {
        string dir = Path.Combine(Path.GetTempPath(), "hep-roc-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(dir, "roc.png");
        var error = Assert.Throws<ArgumentException>(() => RocPlot.Write(path, [0.9f, 0.1f, 0.8f, 0.2f], [0, 0], 2, ["QCD", "top"]));
        Assert.That(error!.Message, Does.Contain("QCD"));
        Assert.That(Directory.Exists(dir), Is.False);
    }
}
