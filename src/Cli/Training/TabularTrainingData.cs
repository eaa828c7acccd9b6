using Hep.Cli.Data;

namespace Hep.Cli.Training;

/// <summary>A batch of standardised table rows (B, F) on the host.</summary>
public sealed record TabularHostBatch(int Rows, float[] X, int[] Labels, long[] Ids) : IHostBatch
{
    public IReadOnlyDictionary<string, float[]> Observables { get; } = new Dictionary<string, float[]>();
}

/// <summary>
/// Batches of a feature table (N, F) held in memory: rows held out by a hash of (seed, row) as for
/// jets (<see cref="Seeds.IsValidation"/>), standardisation (x − mean)/std from the training rows,
/// a full shuffle per epoch from the epoch's generator.
/// </summary>
public sealed class TabularTrainingData : ITrainingData<TabularHostBatch>
{
    private readonly float[] _features;
    private readonly int _f;
    private readonly int[] _labels;
    private readonly int _batchSize;
    private readonly int _seed;
    private readonly int[] _train;
    private readonly int[] _validation;
    private readonly float[] _mean;
    private readonly float[] _std;

    public TabularTrainingData(float[] features, int featureCount, int[] labels, string[] labelNames, int batchSize, double valFraction, int seed)
    {
        (_features, _f, _labels, _batchSize, _seed, LabelNames) = (features, featureCount, labels, batchSize, seed, labelNames);
        var all = Enumerable.Range(0, labels.Length).ToArray();
        _validation = all.Where(r => Seeds.IsValidation(seed, valFraction, r)).ToArray();
        _train = all.Where(r => !Seeds.IsValidation(seed, valFraction, r)).ToArray();
        (_mean, _std) = Standardisation();
    }

    public string[] LabelNames { get; }
    public long TrainRows => _train.Length;

    public IEnumerable<TabularHostBatch> Train(int epoch)
    {
        var rows = (int[])_train.Clone();
        Seeds.EpochRandom(_seed, epoch).Shuffle(rows);
        return Batches(rows);
    }

    public IEnumerable<TabularHostBatch> Validation() => Batches(_validation);

    private IEnumerable<TabularHostBatch> Batches(int[] rows)
    {
        for (int start = 0; start < rows.Length; start += _batchSize)
        {
            var chunk = rows.AsSpan(start, Math.Min(_batchSize, rows.Length - start)).ToArray();
            var x = new float[chunk.Length * _f];
            var y = new int[chunk.Length];
            for (int i = 0; i < chunk.Length; i++)
            {
                for (int k = 0; k < _f; k++) x[i * _f + k] = (_features[chunk[i] * _f + k] - _mean[k]) / _std[k];
                y[i] = _labels[chunk[i]];
            }
            yield return new TabularHostBatch(chunk.Length, x, y, chunk.Select(r => (long)r).ToArray());
        }
    }

    private (float[] Mean, float[] Std) Standardisation()
    {
        var sum = new double[_f];
        var sq = new double[_f];
        foreach (int r in _train)
            for (int k = 0; k < _f; k++)
            {
                double v = _features[r * _f + k];
                sum[k] += v;
                sq[k] += v * v;
            }
        int n = Math.Max(_train.Length, 1);
        var m = new float[_f];
        var s = new float[_f];
        for (int k = 0; k < _f; k++)
        {
            double mu = sum[k] / n;
            m[k] = (float)mu;
            s[k] = (float)Math.Max(Math.Sqrt(Math.Max(sq[k] / n - mu * mu, 0)), 1e-6);
        }
        return (m, s);
    }
}
