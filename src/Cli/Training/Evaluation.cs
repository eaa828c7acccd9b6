using Hep.Autograd;
using Hep.Cli.Metrics;
using Hep.Engine;
using Hep.Models.Nn;

namespace Hep.Cli.Training;

/// <summary>Metrics and per-row outputs of an inference pass: class probabilities (rows × classes), labels, dataset ids and observables.</summary>
public sealed record EvaluationResult(ClassificationMetrics Metrics, float[] Scores, int[] Labels, long[] Ids, Dictionary<string, float[]> Observables);

/// <summary>Inference over host batches in eval mode without a tape: softmax scores, metrics, and the rows' ids and observables, in batch order.</summary>
public static class Evaluation
{
    public static EvaluationResult Run<TBatch>(Module model, IEnumerable<TBatch> batches, Func<TBatch, Variable> forward, string[] labelNames)
        where TBatch : IHostBatch
    {
        model.Eval();
        int classes = labelNames.Length;
        var scores = new List<float>();
        var labels = new List<int>();
        var ids = new List<long>();
        Dictionary<string, List<float>>? observables = null;
        foreach (var batch in Prefetcher.Prefetch(batches, 4))
        {
            using (var scope = TensorScope.Begin())
            using (Tape.NoGrad())
            {
                var logits = forward(batch);
                using var p = TensorOps.Softmax(logits.Data, 1);
                scores.AddRange(p.ToArray<float>());
            }
            labels.AddRange(batch.Labels);
            ids.AddRange(batch.Ids);
            observables ??= batch.Observables.Keys.ToDictionary(k => k, _ => new List<float>());
            foreach (var (name, values) in batch.Observables) observables[name].AddRange(values);
        }
        if (labels.Count == 0) throw new Options.CliException("flag --val_fraction: no rows to evaluate (the held-out set is empty)");
        var s = scores.ToArray();
        var y = labels.ToArray();
        return new EvaluationResult(ClassificationMetrics.Compute(s, y, classes, labelNames), s, y, [.. ids],
            (observables ?? []).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
    }
}
