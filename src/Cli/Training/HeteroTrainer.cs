using System.Diagnostics;
using Hep.Autograd;
using Hep.Cli.Data.EventGraphs;
using Hep.Cli.Metrics;
using Hep.Engine;
using Hep.Models.Checkpoints;
using Hep.Models.HeteroNet;

namespace Hep.Cli.Training;

/// <summary>
/// Trains HeteroNet on event graphs: seeded train/validation split and per-epoch shuffling, many events
/// per optimisation step (<see cref="HeteroGraphBatch"/>: node and edge rows concatenated per type, one
/// graph id per node for the per-event segment-mean readout), one scope + tape per step, per-epoch
/// validation metrics, metrics.jsonl, last.ckpt (with optimiser state) and best.ckpt (best validation AUC).
/// </summary>
public sealed class HeteroTrainer(IBackend backend, TabularSettings settings, TextWriter log)
{
    /// <summary>Trains; returns the final validation metrics, the validation events and their class probabilities.</summary>
    public TabularResult Run(HeteroNet model, EventGraphSet data, string expDir, string config, IReadOnlyDictionary<string, string> metadata)
    {
        if (settings.Epochs < 1) throw new Options.CliException("flag --epochs: must be at least 1");
        if (settings.BatchSize < 2) throw new Options.CliException($"flag --batch_size: {settings.BatchSize} must be at least 2 (batch normalisation over the batch's nodes and edges)");
        Directory.CreateDirectory(expDir);
        int n = data.Count;
        var rng = new Random(settings.Seed);
        var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        int nVal = (int)Math.Round(n * settings.ValFraction);
        var val = order[..nVal];
        var train = order[nVal..];
        if (val.Length == 0 || train.Length < 2)
            throw new Options.CliException($"flag --val_fraction: {settings.ValFraction} of {n} events leaves {train.Length} training / {val.Length} validation events");
        using var opt = OptimizerSetup.Create(settings.Optimizer, model.Parameters(), settings.LearningRate, settings.Momentum, settings.WeightDecay);
        var schedule = OptimizerSetup.Schedule(settings.Schedule, settings.LearningRate, settings.Epochs);
        var c = model.Config;
        log.WriteLine($"model: HeteroNet (embed {c.EmbedSize}, {c.NumLayers} layers, inputs {c.ClusterNodeDim}/{c.ClusterEdgeDim} cluster, " +
            $"{c.TrackerNodeDim}/{c.TrackerEdgeDim} tracker, {c.NumClasses} classes), {model.ParameterCount:N0} parameters; " +
            $"{train.Length} training / {val.Length} validation events; backend {backend.Name}");
        int batches = (train.Length + settings.BatchSize - 1) / settings.BatchSize;
        double bestAuc = double.NegativeInfinity;
        ClassificationMetrics? metrics = null;
        float[] scores = [];
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            model.Train();
            var shuffled = train.OrderBy(_ => rng.Next()).ToArray();
            using var tally = new TrainingTally(backend);
            var clock = Stopwatch.StartNew();
            for (int b = 0; b < batches; b++)
            {
                opt.LearningRate = schedule.At(epoch + (double)b / batches);
                var rows = shuffled.AsSpan(b * settings.BatchSize, Math.Min(settings.BatchSize, shuffled.Length - b * settings.BatchSize)).ToArray();
                if (rows.Length < 2) continue;
                using var scope = TensorScope.Begin();
                using var batch = HeteroGraphBatch.Create(backend, rows.Select(r => data.Events[r]).ToArray(), c);
                var labels = batch.LabelTensor(backend);
                using var tape = Tape.Begin();
                var logits = model.Forward(batch);
                var loss = Fn.CrossEntropy(logits, labels, settings.LabelSmoothing);
                opt.ZeroGrad();
                tape.Backward(loss);
                opt.Step();
                tally.Add(loss, logits, labels);
                if ((b + 1) % 10 == 0 || b == batches - 1)
                {
                    var (runningLoss, runningAcc) = tally.Read();
                    log.Write($"\r  epoch {epoch + 1} [{b + 1}/{batches}] loss {runningLoss:F4} acc {runningAcc:F4} {tally.Seen / clock.Elapsed.TotalSeconds:F0} events/s   ");
                }
            }
            log.WriteLine();
            double rate = tally.Seen / clock.Elapsed.TotalSeconds;
            (metrics, scores) = Evaluate(model, data, val);
            var (epochLoss, epochAcc) = tally.Read();
            log.WriteLine($"epoch {epoch + 1}/{settings.Epochs}  loss {epochLoss:F4}  train acc {epochAcc:F4}  " +
                $"{rate:F0} events/s  lr {opt.LearningRate:G3}  |  validation: {metrics}");
            new MetricsLog(expDir).Append(epoch + 1, epochLoss, epochAcc, rate, opt.LearningRate, metrics);
            ModelCheckpoint.Save(Path.Combine(expDir, "last.ckpt"), model, epoch + 1, config, opt, metadata);
            if (metrics.Auc > bestAuc || double.IsNaN(bestAuc))
            {
                bestAuc = metrics.Auc;
                ModelCheckpoint.Save(Path.Combine(expDir, "best.ckpt"), model, epoch + 1, config, extraMetadata: metadata);
            }
        }
        return new TabularResult(metrics!, val, scores);
    }

    /// <summary>Inference on every event: metrics and class probabilities (events × classes).</summary>
    public (ClassificationMetrics Metrics, float[] Scores) Predict(HeteroNet model, EventGraphSet data) =>
        Evaluate(model, data, Enumerable.Range(0, data.Count).ToArray());

    private (ClassificationMetrics, float[]) Evaluate(HeteroNet model, EventGraphSet data, int[] rows)
    {
        model.Eval();
        int classes = model.Config.NumClasses;
        var scores = new float[rows.Length * classes];
        for (int start = 0; start < rows.Length; start += settings.BatchSize)
        {
            var chunk = rows.AsSpan(start, Math.Min(settings.BatchSize, rows.Length - start)).ToArray();
            using var scope = TensorScope.Begin();
            using var noGrad = Tape.NoGrad();
            using var batch = HeteroGraphBatch.Create(backend, chunk.Select(r => data.Events[r]).ToArray(), model.Config);
            var logits = model.Forward(batch);
            using var p = TensorOps.Softmax(logits.Data, 1);
            p.ToArray<float>().CopyTo(scores, start * classes);
        }
        return (ClassificationMetrics.Compute(scores, rows.Select(r => data.Events[r].Label).ToArray(), classes, data.LabelNames), scores);
    }
}
