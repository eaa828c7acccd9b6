using System.Diagnostics;
using System.Globalization;
using Hep.Autograd;
using Hep.Cli.Data;
using Hep.Cli.Metrics;
using Hep.Cli.Options;
using Hep.Cli.Output;
using Hep.Engine;
using Hep.Models.Checkpoints;
using Hep.Models.Nn;

namespace Hep.Cli.Training;

/// <summary>
/// The training loop every trainer shares: epochs over prefetched host batches, one
/// <see cref="TensorScope"/> and <see cref="Tape"/> per step, lr schedule, progress, per-epoch
/// validation, metrics.jsonl, last/best checkpoints (atomic), and exact resume.
///
/// Exact resume: everything random is a function of (seed, epoch) — the batch order
/// (<see cref="ITrainingData{TBatch}.Train"/>) and every dropout stream (reseeded at each epoch start) —
/// and last.ckpt holds the weights, batch-norm statistics, optimiser state and step count, and the best
/// validation AUC so far. Resuming from last.ckpt after epoch e therefore reproduces epoch e+1 of the
/// uninterrupted run bit for bit on the same backend.
/// </summary>
public sealed class EpochRunner(IBackend backend, TabularSettings settings, TextWriter log, string? expDir, string unit = "items")
{
    private const string BestAucKey = "best_auc";

    public EvaluationResult Run<TBatch>(Module model, ITrainingData<TBatch> data, Func<TBatch, Variable> forward, string config)
        where TBatch : IHostBatch
    {
        if (settings.Epochs < 1) throw new CliException("flag --epochs: must be at least 1");
        if (expDir is not null) Directory.CreateDirectory(expDir);
        using var opt = OptimizerSetup.Create(settings.Optimizer, model.Parameters(), settings.LearningRate, settings.Momentum, settings.WeightDecay);
        var schedule = OptimizerSetup.Schedule(settings.Schedule, settings.LearningRate, settings.Epochs);
        var (startEpoch, bestAuc) = settings.Resume ? Resume(model, opt) : (0, double.NegativeInfinity);
        long estimatedBatches = Math.Max(1, (data.TrainRows + settings.BatchSize - 1) / settings.BatchSize);
        EvaluationResult? result = null;
        for (int epoch = startEpoch; epoch < settings.Epochs; epoch++)
        {
            model.Train();
            ReseedDropout(model, settings.Seed, epoch);
            using var tally = new TrainingTally(backend);
            var clock = Stopwatch.StartNew();
            int step = 0;
            using var progress = ProgressDisplay.Start(log, $"epoch {epoch + 1}/{settings.Epochs}", (int)Math.Min(estimatedBatches, int.MaxValue), unit);
            foreach (var batch in Prefetcher.Prefetch(data.Train(epoch), 4))
            {
                opt.LearningRate = schedule.At(epoch + Math.Min((double)step / estimatedBatches, 0.999));
                step++;
                if (batch.Rows < 2) continue;
                using var scope = TensorScope.Begin();
                using var tape = Tape.Begin();
                var logits = forward(batch);
                var labels = Tensor.FromArray<int>(backend, batch.Labels, new Shape(batch.Rows));
                var loss = Fn.CrossEntropy(logits, labels, settings.LabelSmoothing);
                opt.ZeroGrad();
                tape.Backward(loss);
                opt.Step();
                tally.Add(loss, logits, labels);
                if (step % 10 == 0)
                {
                    var (runningLoss, runningAcc) = tally.Read();
                    progress.Update(step, runningLoss, runningAcc, tally.Seen / clock.Elapsed.TotalSeconds);
                }
            }
            double seconds = clock.Elapsed.TotalSeconds;
            progress.Finish();
            result = Evaluation.Run(model, data.Validation(), forward, data.LabelNames);
            var (epochLoss, epochAcc) = tally.Read();
            double rate = tally.Seen / Math.Max(seconds, 1e-9);
            log.WriteLine($"epoch {epoch + 1}/{settings.Epochs}  loss {epochLoss:F4}  train acc {epochAcc:F4}  " +
                $"{rate:F0} {unit}/s  lr {opt.LearningRate:G3}  |  validation: {result.Metrics}");
            bool improved = result.Metrics.Auc > bestAuc || double.IsNaN(result.Metrics.Auc);
            if (improved) bestAuc = result.Metrics.Auc;
            if (expDir is null) continue;
            new MetricsLog(expDir).Append(epoch + 1, epochLoss, epochAcc, rate, opt.LearningRate, result.Metrics);
            var meta = new Dictionary<string, string> { [BestAucKey] = bestAuc.ToString("R", CultureInfo.InvariantCulture) };
            ModelCheckpoint.Save(Path.Combine(expDir, "last.ckpt"), model, epoch + 1, config, opt, meta);
            if (improved) ModelCheckpoint.Save(Path.Combine(expDir, "best.ckpt"), model, epoch + 1, config, extraMetadata: meta);
        }
        return result ?? Evaluation.Run(model, data.Validation(), forward, data.LabelNames);
    }

    // Loads exp_dir/last.ckpt (weights, buffers, optimiser state) and returns the epoch to continue from and the best AUC so far.
    private (int Epoch, double BestAuc) Resume(Module model, Hep.Models.Optim.Optimizer opt)
    {
        if (expDir is null) throw new CliException("flag --resume: needs --exp_dir");
        string path = Path.Combine(expDir, "last.ckpt");
        if (!File.Exists(path)) throw new CliException($"flag --resume: no checkpoint '{path}' to resume from");
        CheckpointInfo info;
        try
        {
            info = ModelCheckpoint.Load(path, model, opt);
        }
        catch (Exception e) when (e is CheckpointFormatException or InvalidDataException or IOException)
        {
            throw new CliException($"flag --resume: {e.Message}");
        }
        double best = info.Metadata.TryGetValue(BestAucKey, out var s) ? double.Parse(s, CultureInfo.InvariantCulture) : double.NegativeInfinity;
        log.WriteLine(info.Epoch >= settings.Epochs
            ? $"resume: {path} already holds {info.Epoch} epochs (--epochs {settings.Epochs}); evaluating only"
            : $"resume: continuing after epoch {info.Epoch} from {path}");
        return (info.Epoch, best);
    }

    /// <summary>Reseeds every dropout of the model from (seed, epoch, position) so each epoch's masks do not depend on what ran before it.</summary>
    public static void ReseedDropout(Module model, int seed, int epoch)
    {
        ulong index = 0;
        foreach (var m in model.Modules())
        {
            if (m is Dropout d) d.Reseed(Seeds.Mix(((ulong)(uint)seed << 32) ^ ((ulong)(uint)epoch << 12) ^ index++));
        }
    }
}
