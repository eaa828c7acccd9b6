namespace Hep.Models.Tests.Support;

/// <summary>Area under the ROC curve by the Mann–Whitney statistic (ties count one half).</summary>
internal static class RocAuc
{
    public static double Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        int pos = positive.Count(p => p), neg = scores.Count - pos;
        if (pos == 0 || neg == 0) throw new ArgumentException("AUC needs both classes");
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++)
                if (positive[order[k]]) rankSum += rank;
            i = j + 1;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }
}
