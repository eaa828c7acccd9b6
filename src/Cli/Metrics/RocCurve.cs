namespace Hep.Cli.Metrics;

/// <summary>
/// An exact ROC curve: one point per distinct discriminant value τ (descending), with
/// ε_S(τ) = #signal with d ≥ τ / #signal and ε_B(τ) = #background with d ≥ τ / #background (the same
/// inclusive cut as <see cref="ClassificationMetrics.Rejection"/>), preceded by (0, 0) at τ = +∞ and
/// ending at (1, 1). Ties form one point, so the trapezoidal <see cref="Auc"/> equals the Mann–Whitney AUC
/// with average ranks (<see cref="ClassificationMetrics.RocAuc"/>).
/// </summary>
public sealed record RocCurve(double[] SignalEfficiency, double[] BackgroundEfficiency, double[] Thresholds, double Auc,
    int SignalCount, int BackgroundCount)
{
    /// <summary>The curve of <paramref name="discriminant"/> (higher = more signal-like); throws on NaN or a missing class.</summary>
    public static RocCurve Compute(ReadOnlySpan<double> discriminant, ReadOnlySpan<bool> isSignal)
    {
        if (discriminant.Length != isSignal.Length)
            throw new ArgumentException($"RocCurve: {discriminant.Length} scores but {isSignal.Length} labels");
        int n = discriminant.Length, nSig = 0;
        for (int i = 0; i < n; i++)
        {
            if (double.IsNaN(discriminant[i])) throw new ArgumentException($"RocCurve: score of entry {i} is NaN");
            if (isSignal[i]) nSig++;
        }
        int nBkg = n - nSig;
        if (nSig == 0 || nBkg == 0) throw new ArgumentException($"RocCurve: needs signal and background entries, got {nSig} signal and {nBkg} background");

        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = discriminant.ToArray();
        Array.Sort(keys, order);                  // ascending; walk from the end for descending thresholds
        var eS = new List<double>(Math.Min(n, 1 << 16) + 2) { 0 };
        var eB = new List<double>(eS.Capacity) { 0 };
        var thresholds = new List<double>(eS.Capacity) { double.PositiveInfinity };
        long tp = 0, fp = 0;
        double auc = 0;
        for (int j = n - 1; j >= 0;)
        {
            double tau = keys[j];
            long tp0 = tp, fp0 = fp;
            for (; j >= 0 && keys[j] == tau; j--)
            {
                if (isSignal[order[j]]) tp++;
                else fp++;
            }
            auc += (double)(fp - fp0) * (tp + tp0) / 2;
            eS.Add((double)tp / nSig);
            eB.Add((double)fp / nBkg);
            thresholds.Add(tau);
        }
        return new RocCurve([.. eS], [.. eB], [.. thresholds], auc / ((double)nSig * nBkg), nSig, nBkg);
    }

    /// <summary>
    /// Class <paramref name="signalClass"/> (≥ 1) against the first class, over the jets of those two classes, with
    /// the discriminant s_c / (s_c + s_0) of <see cref="ClassificationMetrics"/>' per-class rejection (for binary
    /// softmax scores this is s_1, the score its AUC ranks). Scores are (N, classes) row-major.
    /// </summary>
    public static RocCurve ForClass(float[] scores, int[] labels, int classes, int signalClass)
    {
        if (classes < 2) throw new ArgumentException($"RocCurve: needs at least 2 classes, got {classes}");
        if (signalClass < 1 || signalClass >= classes) throw new ArgumentOutOfRangeException(nameof(signalClass), signalClass, $"RocCurve: signal class must be in [1, {classes})");
        if (scores.Length != (long)labels.Length * classes)
            throw new ArgumentException($"RocCurve: {scores.Length} scores for {labels.Length} labels × {classes} classes");
        var disc = new List<double>(labels.Length);
        var sig = new List<bool>(labels.Length);
        for (int i = 0; i < labels.Length; i++)
        {
            int l = labels[i];
            if (l < 0 || l >= classes) throw new ArgumentException($"RocCurve: label {l} of entry {i} outside [0, {classes})");
            if (l != signalClass && l != 0) continue;
            double sc = scores[i * classes + signalClass], s0 = scores[i * classes];
            disc.Add(sc / Math.Max(sc + s0, 1e-30));
            sig.Add(l == signalClass);
        }
        return Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(disc), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sig));
    }

    /// <summary>
    /// 1/ε_B at the loosest cut keeping ⌈ε·#signal⌉ (at least 1) signal entries, as
    /// <see cref="ClassificationMetrics.Rejection"/> counts it (+∞ when no background passes).
    /// </summary>
    public double RejectionAt(double signalEfficiency)
    {
        long keep = Math.Max(1, (long)Math.Ceiling(signalEfficiency * SignalCount));
        for (int i = 0; i < SignalEfficiency.Length; i++)
        {
            if (Math.Round(SignalEfficiency[i] * SignalCount) >= keep)
                return BackgroundEfficiency[i] == 0 ? double.PositiveInfinity : 1 / BackgroundEfficiency[i];
        }
        return 1;
    }
}
