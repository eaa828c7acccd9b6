using Hep.Cli.Data;
using Hep.Cli.Metrics;

namespace Hep.Cli.Tests;

/// <summary>The built-in demo trains and separates the synthetic classes; metrics match hand-computed values.</summary>
public class DemoTests
{
    [Test]
    public void SyntheticJetsAreDeterministicAndPhysical()
    {
        var a = SyntheticJets.Generate(50, 64, 7);
        var b = SyntheticJets.Generate(50, 64, 7);
        Assert.That(a.P4, Is.EqualTo(b.P4));
        var obs = JetObservables.Compute(a);
        int f = JetObservables.Names.Length;
        for (int j = 0; j < a.Count; j++)
        {
            Assert.That(obs[j * f], Is.InRange(450f, 700f), "jet pT");
            Assert.That(a.Counts[j], Is.InRange(1, 64));
            for (int i = 0; i < a.Counts[j]; i++)
            {
                int at = (j * 64 + i) * 4;
                double p2 = a.P4[at] * a.P4[at] + a.P4[at + 1] * a.P4[at + 1] + a.P4[at + 2] * a.P4[at + 2];
                Assert.That(a.P4[at + 3], Is.EqualTo(Math.Sqrt(p2)).Within(1e-3 * a.P4[at + 3]), "massless constituent");
            }
        }
        // Top-like jets are heavier on average.
        double topMass = Enumerable.Range(0, 50).Where(j => a.Labels[j] == 1).Average(j => obs[j * f + 2]);
        double qcdMass = Enumerable.Range(0, 50).Where(j => a.Labels[j] == 0).Average(j => obs[j * f + 2]);
        Assert.That(topMass, Is.GreaterThan(qcdMass * 1.2));
    }

    [Test]
    public void DemoRunReachesGoodAuc()
    {
        var log = new StringWriter();
        int rc = Program.Run(["--arch", "MLP", "--epochs", "3", "--batch_size", "128", "--learning_rate", "0.05", "--synthetic_jets", "2000"], log);
        Assert.That(rc, Is.EqualTo(0));
        var last = log.ToString().Split('\n').Last(l => l.StartsWith("final validation", StringComparison.Ordinal));
        double auc = double.Parse(last.Split("AUC ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(auc, Is.GreaterThan(0.88), last);
    }

    [Test]
    public void AucAndRejectionMatchHandComputedValues()
    {
        // Positives {0.9, 0.8, 0.4} vs negatives {0.7, 0.3, 0.2, 0.1}: pairs won 4 + 4 + 3 = 11 of 12.
        double[] s = [0.9, 0.8, 0.4, 0.7, 0.3, 0.2, 0.1];
        bool[] pos = [true, true, true, false, false, false, false];
        Assert.That(ClassificationMetrics.RocAuc(s, pos), Is.EqualTo(11.0 / 12).Within(1e-12));
        var disc = s.Zip(pos, (a, b) => (a, b)).ToList();
        // 50% signal efficiency keeps the top 2 signal jets (threshold 0.8): no background passes.
        Assert.That(ClassificationMetrics.Rejection(disc, 0.5), Is.EqualTo(double.PositiveInfinity));
        // 100% keeps threshold 0.4: backgrounds ≥ 0.4 are {0.7}: 1/εB = 4/1.
        Assert.That(ClassificationMetrics.Rejection(disc, 1.0), Is.EqualTo(4.0));
    }
}
