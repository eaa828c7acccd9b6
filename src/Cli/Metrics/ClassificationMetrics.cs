namespace Hep.Cli.Metrics;

/// <summary>
/// The metrics physicists quote for taggers, from per-jet class scores (N, C) and true labels:
/// accuracy; ROC AUC (binary: class 1 vs 0; multi-class: one-vs-rest macro average); background
/// rejection 1/ε_B at signal efficiency 50% and 30% (signal = last class vs the first class for binary,
/// each class vs the first class for multi-class, as in the JetClass tables).
/// </summary>
public sealed record ClassificationMetrics(double Accuracy, double Auc, double RejectionAt50, double RejectionAt30, IReadOnlyDictionary<string, (double R50, double R30)> PerClassRejection)
{
    public static ClassificationMetrics Compute(float[] scores, int[] labels, int classes, IReadOnlyList<string> labelNames)
    {
        int n = labels.Length;
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++) if (scores[i * classes + c] > scores[i * classes + best]) best = c;
            if (best == labels[i]) correct++;
        }
        double auc;
        if (classes == 2) auc = RocAuc(Column(scores, classes, 1), labels.Select(l => l == 1).ToArray());
        else
        {
            var aucs = new List<double>();
            for (int c = 0; c < classes; c++)
            {
                var pos = labels.Select(l => l == c).ToArray();
                if (pos.Any(p => p) && pos.Any(p => !p)) aucs.Add(RocAuc(Column(scores, classes, c), pos));
            }
            auc = aucs.Count == 0 ? double.NaN : aucs.Average();
        }
        var perClass = new Dictionary<string, (double, double)>();
        for (int c = 1; c < classes; c++)
        {
            // Discriminant s_c / (s_c + s_0) over jets of class c (signal) and class 0 (background).
            var disc = new List<(double Score, bool Signal)>();
            for (int i = 0; i < n; i++)
            {
                if (labels[i] != c && labels[i] != 0) continue;
                double sc = scores[i * classes + c], s0 = scores[i * classes];
                disc.Add((sc / Math.Max(sc + s0, 1e-30), labels[i] == c));
            }
            perClass[labelNames.Count > c ? labelNames[c] : $"class{c}"] = (Rejection(disc, 0.5), Rejection(disc, 0.3));
        }
        var last = perClass.Count > 0 ? perClass.Values.Last() : (double.NaN, double.NaN);
        return new ClassificationMetrics((double)correct / Math.Max(n, 1), auc, last.Item1, last.Item2, perClass);
    }

    private static double[] Column(float[] scores, int classes, int c)
    {
        var v = new double[scores.Length / classes];
        for (int i = 0; i < v.Length; i++) v[i] = scores[i * classes + c];
        return v;
    }

    /// <summary>Mann–Whitney AUC with average ranks for ties.</summary>
    public static double RocAuc(double[] score, bool[] positive)
    {
        var order = Enumerable.Range(0, score.Length).OrderBy(i => score[i]).ToArray();
        double rankSum = 0;
        long pos = positive.Count(p => p), neg = score.Length - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && score[order[j + 1]] == score[order[i]]) j++;
            double avgRank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) if (positive[order[k]]) rankSum += avgRank;
            i = j + 1;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>1/ε_B at the threshold keeping a fraction <paramref name="signalEfficiency"/> of signal.</summary>
    public static double Rejection(List<(double Score, bool Signal)> disc, double signalEfficiency)
    {
        var sig = disc.Where(d => d.Signal).Select(d => d.Score).OrderByDescending(s => s).ToArray();
        var bkg = disc.Where(d => !d.Signal).Select(d => d.Score).ToArray();
        if (sig.Length == 0 || bkg.Length == 0) return double.NaN;
        int keep = Math.Max(1, (int)Math.Ceiling(signalEfficiency * sig.Length));
        double threshold = sig[keep - 1];
        int pass = bkg.Count(s => s >= threshold);
        return pass == 0 ? double.PositiveInfinity : (double)bkg.Length / pass;
    }

    public override string ToString() =>
        $"accuracy {Accuracy:F4}  AUC {Auc:F4}  1/eB@50% {RejectionAt50:F1}  1/eB@30% {RejectionAt30:F1}";
}
