using System.Diagnostics;
using Hep.Autograd;
using Hep.Cli.Data;
using Hep.Cli.Metrics;
using Hep.Engine;
using Hep.Models.Checkpoints;

namespace Hep.Cli.Training;

/// <summary>
/// Trains a particle-level model (ParticleNet, ParT, PFN) on padded jets: per-particle inputs from
/// <see cref="ParticleFeatures"/> (the first two processing conditions are the kNN coordinates),
/// seeded train/validation split, one scope + tape per step, per-epoch validation metrics and jets/s.
/// </summary>
public sealed class JetTrainer(IBackend backend, TabularSettings settings, TextWriter log)
{
    /// <summary>Trains; after every epoch writes last.ckpt and, when validation AUC improves, best.ckpt into <paramref name="expDir"/>.</summary>
    public TabularResult Run(JetModel model, JetSet jets, IReadOnlyList<ProcessingCondition> conditions, string expDir, string config)
    {
        Directory.CreateDirectory(expDir);
        double bestAuc = double.NegativeInfinity;
        var (features, mask) = ParticleFeatures.Compute(jets, conditions);
        int n = jets.Count, classes = jets.LabelNames.Length;
        var rng = new Random(settings.Seed);
        var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        int nVal = (int)Math.Round(n * settings.ValFraction);
        var val = order[..nVal];
        var train = order[nVal..];
        using var opt = OptimizerSetup.Create(settings.Optimizer, model.Module.Parameters(), settings.LearningRate, settings.Momentum, settings.WeightDecay);
        var schedule = OptimizerSetup.Schedule(settings.Schedule, settings.LearningRate, settings.Epochs);
        log.WriteLine($"model: {model.Description}, {model.Module.ParameterCount:N0} parameters; {train.Length} training / {val.Length} validation jets; " +
            $"{conditions.Count} inputs [{string.Join(", ", conditions.Select(c => c.Name))}]; backend {backend.Name}");
        int batches = (train.Length + settings.BatchSize - 1) / settings.BatchSize;
        ClassificationMetrics? metrics = null;
        float[] scores = [];
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            model.Module.Train();
            var shuffled = train.OrderBy(_ => rng.Next()).ToArray();
            using var tally = new TrainingTally(backend);
            var clock = Stopwatch.StartNew();
            for (int b = 0; b < batches; b++)
            {
                opt.LearningRate = schedule.At(epoch + (double)b / batches);
                var rows = shuffled.Skip(b * settings.BatchSize).Take(settings.BatchSize).ToArray();
                if (rows.Length < 2) continue;
                using var scope = TensorScope.Begin();
                var batch = Batch(jets, features, mask, conditions.Count, rows);
                using var tape = Tape.Begin();
                var logits = model.Forward(batch);
                var loss = Fn.CrossEntropy(logits, batch.Labels, settings.LabelSmoothing);
                opt.ZeroGrad();
                tape.Backward(loss);
                opt.Step();
                tally.Add(loss, logits, batch.Labels);
                if ((b + 1) % 10 == 0 || b == batches - 1)
                {
                    var (runningLoss, runningAcc) = tally.Read();
                    log.Write($"\r  epoch {epoch + 1} [{b + 1}/{batches}] loss {runningLoss:F4} acc {runningAcc:F4} {tally.Seen / clock.Elapsed.TotalSeconds:F0} jets/s   ");
                }
            }
            log.WriteLine();
            (metrics, scores) = Evaluate(model, jets, features, mask, conditions.Count, val, classes);
            var (epochLoss, epochAcc) = tally.Read();
            double rate = tally.Seen / clock.Elapsed.TotalSeconds;
            log.WriteLine($"epoch {epoch + 1}/{settings.Epochs}  loss {epochLoss:F4}  train acc {epochAcc:F4}  " +
                $"{rate:F0} jets/s  lr {opt.LearningRate:G3}  |  validation: {metrics}");
            new MetricsLog(expDir).Append(epoch + 1, epochLoss, epochAcc, rate, opt.LearningRate, metrics);
            ModelCheckpoint.Save(Path.Combine(expDir, "last.ckpt"), model.Module, epoch + 1, config, opt);
            if (metrics.Auc > bestAuc || double.IsNaN(bestAuc))
            {
                bestAuc = metrics.Auc;
                ModelCheckpoint.Save(Path.Combine(expDir, "best.ckpt"), model.Module, epoch + 1, config);
            }
        }
        if (metrics is null) throw new Options.CliException("flag --epochs: must be at least 1");
        return new TabularResult(metrics, val, scores);
    }

    /// <summary>Inference on every jet of a set: metrics and class probabilities (jets × classes).</summary>
    public (ClassificationMetrics Metrics, float[] Scores) Predict(JetModel model, JetSet jets, IReadOnlyList<ProcessingCondition> conditions)
    {
        var (features, mask) = ParticleFeatures.Compute(jets, conditions);
        return Evaluate(model, jets, features, mask, conditions.Count, Enumerable.Range(0, jets.Count).ToArray(), jets.LabelNames.Length);
    }

    private (ClassificationMetrics, float[]) Evaluate(JetModel model, JetSet jets, float[] features, float[] mask, int channels, int[] rows, int classes)
    {
        model.Module.Eval();
        var scores = new float[rows.Length * classes];
        for (int start = 0; start < rows.Length; start += settings.BatchSize)
        {
            var chunk = rows.Skip(start).Take(settings.BatchSize).ToArray();
            using var scope = TensorScope.Begin();
            using var noGrad = Tape.NoGrad();
            var logits = model.Forward(Batch(jets, features, mask, channels, chunk));
            using var p = TensorOps.Softmax(logits.Data, 1);
            p.ToArray<float>().CopyTo(scores, start * classes);
        }
        return (ClassificationMetrics.Compute(scores, rows.Select(r => jets.Labels[r]).ToArray(), classes, jets.LabelNames), scores);
    }

    private JetBatch Batch(JetSet jets, float[] features, float[] mask, int channels, int[] rows)
    {
        int p = jets.MaxParticles, b = rows.Length;
        var f = new float[b * channels * p];
        var pts = new float[b * 2 * p];
        var vec = new float[b * 4 * p];
        var m = new float[b * p];
        var y = new int[b];
        for (int i = 0; i < b; i++)
        {
            int r = rows[i];
            Array.Copy(features, r * channels * p, f, i * channels * p, channels * p);
            Array.Copy(features, r * channels * p, pts, i * 2 * p, 2 * p);
            Array.Copy(mask, r * p, m, i * p, p);
            for (int k = 0; k < p; k++)
                for (int c = 0; c < 4; c++) vec[(i * 4 + c) * p + k] = jets.P4[(r * p + k) * 4 + c];
            y[i] = jets.Labels[r];
        }
        return new JetBatch(
            Tensor.FromArray<float>(backend, f, new Shape(b, channels, p)),
            Tensor.FromArray<float>(backend, pts, new Shape(b, 2, p)),
            Tensor.FromArray<float>(backend, vec, new Shape(b, 4, p)),
            Tensor.FromArray<float>(backend, m, new Shape(b, 1, p)),
            Tensor.FromArray<int>(backend, y, new Shape(b)));
    }
}
