using System.Diagnostics;
using Hep.Autograd;
using Hep.Cli.Metrics;
using Hep.Engine;
using Hep.Models.Mlp;
using Hep.Models.Optim;

namespace Hep.Cli.Training;

/// <summary>Settings of a tabular training run (from the CLI flags).</summary>
public sealed record TabularSettings(int Epochs, int BatchSize, double LearningRate, double Momentum, double WeightDecay,
    string Optimizer, string Schedule, double LabelSmoothing, double ValFraction, int Seed, int[] Hidden, double Dropout);

/// <summary>Validation metrics, the held-out row indices and their class probabilities (rows × classes).</summary>
public sealed record TabularResult(ClassificationMetrics Metrics, int[] HeldOutRows, float[] Scores);

/// <summary>
/// Trains the MLP classifier on a feature table (N, F): standardisation from the training split,
/// seeded shuffling, one <see cref="TensorScope"/> and <see cref="Tape"/> per step (nothing outlives a
/// step but parameters and optimiser state), per-epoch validation metrics and throughput.
/// </summary>
public sealed class TabularTrainer(IBackend backend, TabularSettings settings, TextWriter log, string? expDir = null)
{
    /// <summary>Trains, then returns the validation metrics with the held-out rows and their class probabilities.</summary>
    public TabularResult Run(float[] features, int featureCount, int[] labels, string[] labelNames)
    {
        int n = labels.Length, classes = labelNames.Length;
        var rng = new Random(settings.Seed);
        var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        int nVal = (int)Math.Round(n * settings.ValFraction);
        var val = order[..nVal];
        var train = order[nVal..];
        var (mean, std) = Standardisation(features, featureCount, train);

        using var model = new MlpClassifier(backend, featureCount, settings.Hidden, classes, settings.Dropout, seed: (ulong)settings.Seed);
        using var opt = OptimizerSetup.Create(settings.Optimizer, model.Parameters(), settings.LearningRate, settings.Momentum, settings.WeightDecay);
        var schedule = OptimizerSetup.Schedule(settings.Schedule, settings.LearningRate, settings.Epochs);
        log.WriteLine($"model: MLP {featureCount} → [{string.Join(", ", settings.Hidden)}] → {classes}, {model.ParameterCount:N0} parameters; " +
            $"{train.Length} training / {val.Length} validation rows; backend {backend.Name}");
        ClassificationMetrics? metrics = null;
        float[] scores = [];
        int batches = (train.Length + settings.BatchSize - 1) / settings.BatchSize;
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            model.Train();
            var shuffled = train.OrderBy(_ => rng.Next()).ToArray();
            using var tally = new TrainingTally(backend);
            var clock = Stopwatch.StartNew();
            for (int b = 0; b < batches; b++)
            {
                opt.LearningRate = schedule.At(epoch + (double)b / batches);
                var rows = shuffled.Skip(b * settings.BatchSize).Take(settings.BatchSize).ToArray();
                if (rows.Length < 2) continue;
                using var scope = TensorScope.Begin();
                var (x, y) = Batch(features, featureCount, labels, rows, mean, std);
                using var tape = Tape.Begin();
                var logits = model.Forward(Variable.Constant(x));
                var loss = Fn.CrossEntropy(logits, y, settings.LabelSmoothing);
                opt.ZeroGrad();
                tape.Backward(loss);
                opt.Step();
                tally.Add(loss, logits, y);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            (metrics, scores) = Evaluate(model, features, featureCount, labels, val, mean, std, classes, labelNames);
            var (epochLoss, epochAcc) = tally.Read();
            log.WriteLine($"epoch {epoch + 1}/{settings.Epochs}  loss {epochLoss:F4}  train acc {epochAcc:F4}  " +
                $"{tally.Seen / seconds:F0} rows/s  lr {opt.LearningRate:G3}  |  validation: {metrics}");
            if (expDir is not null) new MetricsLog(expDir).Append(epoch + 1, epochLoss, epochAcc, tally.Seen / seconds, opt.LearningRate, metrics);
        }
        if (metrics is null) throw new Options.CliException("flag --epochs: must be at least 1");
        return new TabularResult(metrics, val, scores);
    }

    private (ClassificationMetrics, float[]) Evaluate(MlpClassifier model, float[] features, int f, int[] labels, int[] rows, float[] mean, float[] std,
        int classes, string[] labelNames)
    {
        model.Eval();
        var scores = new float[rows.Length * classes];
        for (int start = 0; start < rows.Length; start += 4096)
        {
            var chunk = rows.Skip(start).Take(4096).ToArray();
            using var scope = TensorScope.Begin();
            var (x, _) = Batch(features, f, labels, chunk, mean, std);
            var logits = model.Forward(Variable.Constant(x));
            using var p = TensorOps.Softmax(logits.Data, 1);
            p.ToArray<float>().CopyTo(scores, start * classes);
        }
        return (ClassificationMetrics.Compute(scores, rows.Select(r => labels[r]).ToArray(), classes, labelNames), scores);
    }

    private (Tensor X, Tensor Y) Batch(float[] features, int f, int[] labels, int[] rows, float[] mean, float[] std)
    {
        var x = new float[rows.Length * f];
        var y = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int k = 0; k < f; k++) x[i * f + k] = (features[rows[i] * f + k] - mean[k]) / std[k];
            y[i] = labels[rows[i]];
        }
        return (Tensor.FromArray<float>(backend, x, new Shape(rows.Length, f)), Tensor.FromArray<int>(backend, y, new Shape(rows.Length)));
    }

    private static (float[] Mean, float[] Std) Standardisation(float[] features, int f, int[] rows)
    {
        var mean = new double[f];
        var sq = new double[f];
        foreach (int r in rows)
            for (int k = 0; k < f; k++)
            {
                double v = features[r * f + k];
                mean[k] += v;
                sq[k] += v * v;
            }
        var m = new float[f];
        var s = new float[f];
        for (int k = 0; k < f; k++)
        {
            double mu = mean[k] / Math.Max(rows.Length, 1);
            m[k] = (float)mu;
            s[k] = (float)Math.Max(Math.Sqrt(Math.Max(sq[k] / Math.Max(rows.Length, 1) - mu * mu, 0)), 1e-6);
        }
        return (m, s);
    }
}
