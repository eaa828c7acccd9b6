using System.Text.Json;
using Hep.Cli.Data.EventGraphs;
using Hep.Cli.Options;
using Hep.Engine;
using Hep.Models.Checkpoints;
using Hep.Models.HeteroNet;

namespace Hep.Cli.Training;

/// <summary>
/// <c>hep --arch HeteroNet --data_root &lt;event-graph file or folder&gt; …</c>: reads event graphs
/// (docs/event-graphs.md), builds HeteroNet with the file's input dimensions (embed 32; --num_layers when
/// given, else the tutorial's 6; decoder dropout 0.1), trains with <see cref="HeteroTrainer"/> or, with
/// --mode infer, loads --load_model (whose recorded features and classes must match the file) and scores
/// every event; writes predictions like the other architectures.
/// </summary>
public static class HeteroRun
{
    public static int Run(string[] args, ParsedFlags flags, IBackend backend, TextWriter log)
    {
        string mode = flags.String("mode")!;
        if (mode is not ("train" or "infer")) throw new CliException($"flag --mode: '{mode}' must be train or infer");
        string? checkpoint = flags.String("load_model");
        if (mode == "infer" && checkpoint is null) throw new CliException("flag --load_model: --mode infer needs a checkpoint");
        if (checkpoint is not null && !File.Exists(checkpoint)) throw new CliException($"flag --load_model: '{checkpoint}' does not exist");
        if (flags.Has("Processing_conditions"))
            throw new CliException("flag --Processing_conditions: HeteroNet takes its features from the event-graph file's branches (docs/event-graphs.md)");
        string dataRoot = flags.String("data_root")
            ?? throw new CliException("flag --data_root: HeteroNet needs event graphs (make some with `hep generate-graphs --out F.root --events N`)");
        var observables = flags.Json<string[]>("Observables") ?? [];
        EventGraphSet data;
        try
        {
            data = EventGraphReader.Read(dataRoot, flags.Json<string[]>("labels"), observables, log);
        }
        catch (CliException e)
        {
            throw new CliException($"flag --data_root: {e.Message}");
        }
        log.WriteLine($"features: {data.Schema}");

        var baseConfig = new HeteroNetConfig { NumLayers = flags.Has("num_layers") ? flags.Int("num_layers") : 6 };
        if (baseConfig.NumLayers < 1) throw new CliException($"flag --num_layers: {baseConfig.NumLayers} must be positive");
        var config = mode == "infer" ? CheckpointConfig(checkpoint!, data) : data.Schema.Apply(baseConfig, data.LabelNames.Length);
        var settings = new TabularSettings(flags.Int("epochs"), flags.Int("batch_size"), flags.Double("learning_rate"), flags.Double("momentum"),
            flags.Double("weight_decay"), flags.String("optimizer")!, flags.String("lr_schedule")!, flags.Double("labelSmoothing"),
            flags.Double("val_fraction"), flags.Int("seed"), [], config.DecoderDropout, flags.Switch("resume"));
        if (settings.BatchSize < 1) throw new CliException($"flag --batch_size: {settings.BatchSize} must be positive");

        using var model = new HeteroNet(backend, config, seed: (ulong)settings.Seed);
        var trainer = new HeteroTrainer(backend, settings, log);
        EvaluationResult result;
        if (mode == "infer")
        {
            CheckpointLoading.Load(checkpoint!, model, log);
            result = trainer.Predict(model, data);
        }
        else
        {
            if (checkpoint is not null) CheckpointLoading.Load(checkpoint, model, log);
            string expDir = flags.String("exp_dir")!;
            var record = new CheckpointRecord(string.Join(" ", args), config, data.Schema, data.LabelNames);
            result = trainer.Run(model, data, expDir, JsonSerializer.Serialize(record));
            log.WriteLine($"checkpoints: {Path.Combine(expDir, "best.ckpt")}, last.ckpt");
        }
        log.WriteLine($"{(mode == "infer" ? "inference" : "final validation")}: {result.Metrics}");
        string outDir = flags.String("predict_output") ?? Path.Combine(flags.String("exp_dir")!, "predict_output");
        string path = Output.PredictionWriter.Write(outDir, flags.String("predict_format")!, result.Scores, result.Labels, data.LabelNames, result.Observables);
        string roc = Path.Combine(outDir, "roc.png");
        Metrics.RocPlot.Write(roc, result.Scores, result.Labels, data.LabelNames.Length, data.LabelNames);
        log.WriteLine($"predictions: {path} ({result.Labels.Length} {(mode == "infer" ? "" : "held-out ")}events); ROC curve: {roc}");
        return 0;
    }

    /// <summary>What a HeteroNet checkpoint's config field holds (JSON): the command line, the architecture, and the features and classes it was trained on.</summary>
    private sealed record CheckpointRecord(string Command, HeteroNetConfig HeteroNet, EventGraphSchema Features, string[] Labels);

    // The architecture recorded in a HeteroNet checkpoint; the data must have the same features and classes.
    private static HeteroNetConfig CheckpointConfig(string path, EventGraphSet data)
    {
        string json;
        try
        {
            json = ModelCheckpoint.Inspect(path).Config;
        }
        catch (Exception e) when (e is CheckpointFormatException or InvalidDataException or IOException)
        {
            throw new CliException($"flag --load_model: {path}: {e.Message.Split('\n')[0]}");
        }
        CheckpointRecord? record;
        try
        {
            record = json.TrimStart().StartsWith('{') ? JsonSerializer.Deserialize<CheckpointRecord>(json) : null;
        }
        catch (JsonException)
        {
            record = null; // another architecture's free-text config
        }
        if (record?.HeteroNet is null || record.Features is null || record.Labels is null)
            throw new CliException($"flag --load_model: {path} is not a HeteroNet checkpoint (its config records no HeteroNet architecture)");
        if (!record.Features.SameAs(data.Schema))
            throw new CliException($"flag --load_model: {path} was trained on features {record.Features}; the data has {data.Schema}");
        if (!record.Labels.SequenceEqual(data.LabelNames))
            throw new CliException($"flag --load_model: {path} was trained on classes [{string.Join(", ", record.Labels)}]; the data has [{string.Join(", ", data.LabelNames)}]");
        return record.HeteroNet;
    }
}
