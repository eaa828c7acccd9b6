using Hep.Autograd;
using Hep.Cli.Data;
using Hep.Cli.Data.EventGraphs;
using Hep.Engine;
using Hep.Models.HeteroNet;

namespace Hep.Cli.Training;

/// <summary>A batch of whole events on the host: their graphs, labels, dataset ids (entry numbers) and observables.</summary>
public sealed record HeteroHostBatch(HeteroEvent[] Events, int[] Labels, long[] Ids, IReadOnlyDictionary<string, float[]> Observables) : IHostBatch
{
    public int Rows => Events.Length;
}

/// <summary>
/// Batches of event graphs held in memory: events held out by a hash of (seed, event) as for jets and
/// tables (<see cref="Seeds.IsValidation"/>), a full shuffle of the training events per epoch from the
/// epoch's generator, so a resumed run sees the same batches.
/// </summary>
public sealed class HeteroTrainingData : ITrainingData<HeteroHostBatch>
{
    private readonly EventGraphSet _set;
    private readonly int _batchSize;
    private readonly int _seed;
    private readonly int[] _train;

    public HeteroTrainingData(EventGraphSet set, int batchSize, double valFraction, int seed)
    {
        (_set, _batchSize, _seed) = (set, batchSize, seed);
        var all = Enumerable.Range(0, set.Count).ToArray();
        ValidationRows = all.Where(r => Seeds.IsValidation(seed, valFraction, r)).ToArray();
        _train = all.Where(r => !Seeds.IsValidation(seed, valFraction, r)).ToArray();
    }

    public string[] LabelNames => _set.LabelNames;
    public long TrainRows => _train.Length;
    public int[] ValidationRows { get; }

    public IEnumerable<HeteroHostBatch> Train(int epoch)
    {
        var rows = (int[])_train.Clone();
        Seeds.EpochRandom(_seed, epoch).Shuffle(rows);
        return Batches(rows);
    }

    public IEnumerable<HeteroHostBatch> Validation() => Batches(ValidationRows);

    /// <summary>Every event in file order (inference).</summary>
    public IEnumerable<HeteroHostBatch> All() => Batches(Enumerable.Range(0, _set.Count).ToArray());

    private IEnumerable<HeteroHostBatch> Batches(int[] rows)
    {
        for (int start = 0; start < rows.Length; start += _batchSize)
        {
            var chunk = rows.AsSpan(start, Math.Min(_batchSize, rows.Length - start)).ToArray();
            var events = chunk.Select(r => _set.Events[r]).ToArray();
            var observables = _set.Observables.ToDictionary(kv => kv.Key, kv => chunk.Select(r => kv.Value[r]).ToArray());
            yield return new HeteroHostBatch(events, events.Select(e => e.Label).ToArray(), chunk.Select(r => (long)r).ToArray(), observables);
        }
    }
}

/// <summary>
/// Trains and evaluates HeteroNet on event graphs: many events per optimisation step
/// (<see cref="HeteroGraphBatch"/>: node and edge rows concatenated per type, one graph id per node for the
/// per-event segment-mean readout); the loop, validation metrics, metrics.jsonl, last/best checkpoints
/// and --resume come from <see cref="EpochRunner"/>.
/// </summary>
public sealed class HeteroTrainer(IBackend backend, TabularSettings settings, TextWriter log)
{
    /// <summary>Trains; returns the final validation metrics with the validation events' scores, ids and observables.</summary>
    public EvaluationResult Run(HeteroNet model, EventGraphSet set, string expDir, string config)
    {
        if (settings.BatchSize < 2)
            throw new Options.CliException($"flag --batch_size: {settings.BatchSize} must be at least 2 (batch normalisation over the batch's nodes and edges)");
        var data = new HeteroTrainingData(set, settings.BatchSize, settings.ValFraction, settings.Seed);
        if (data.ValidationRows.Length == 0 || data.TrainRows < 2)
            throw new Options.CliException($"flag --val_fraction: {settings.ValFraction} of {set.Count} events leaves {data.TrainRows} training / {data.ValidationRows.Length} validation events");
        var c = model.Config;
        log.WriteLine($"model: HeteroNet (embed {c.EmbedSize}, {c.NumLayers} layers, inputs {c.ClusterNodeDim}/{c.ClusterEdgeDim} cluster, " +
            $"{c.TrackerNodeDim}/{c.TrackerEdgeDim} tracker, {c.NumClasses} classes), {model.ParameterCount:N0} parameters; " +
            $"{data.TrainRows} training / {data.ValidationRows.Length} validation events; backend {backend.Name}");
        return new EpochRunner(backend, settings, log, expDir, "events").Run(model, data, b => Forward(model, b), config);
    }

    /// <summary>Inference on every event in file order.</summary>
    public EvaluationResult Predict(HeteroNet model, EventGraphSet set) =>
        Evaluation.Run(model, new HeteroTrainingData(set, settings.BatchSize, 0, settings.Seed).All(), b => Forward(model, b), set.LabelNames);

    // The graph tensors are released after the forward pass; the tape keeps its own references for backward.
    private Variable Forward(HeteroNet model, HeteroHostBatch batch)
    {
        using var graph = HeteroGraphBatch.Create(backend, batch.Events, model.Config);
        return model.Forward(graph);
    }
}
