using Hep.Cli.Data;
using Hep.Cli.Options;
using Hep.Cli.Training;

namespace Hep.Cli;

/// <summary>
/// <c>hep</c>: trains and evaluates the engine's models with the users' weaver-style flags
/// (<c>hep --batch_size 512 --learning_rate 0.001 … --gpu 0</c>). User errors print one line and exit 2.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            return Run(args, Console.Out);
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    public static int Run(string[] args, TextWriter log)
    {
        if (args.Length > 0 && args[0] == "selfcheck") return Commands.SelfCheckCommand.Run(args[1..], log);
        if (args.Length > 0 && args[0] == "convert") return Commands.ConvertCommand.Run(args[1..], log);
        if (args.Length > 0 && args[0] == "generate-graphs") return Commands.GenerateGraphsCommand.Run(args[1..], log);
        if (args.Length > 0 && args[0] == "convert-graphs") return Commands.ConvertGraphsCommand.Run(args[1..], log);
        var flags = ParsedFlags.Parse(args);
        if (flags.Switch("help"))
        {
            log.Write(ParsedFlags.Help());
            return 0;
        }
        var backend = DeviceSelection.Select(flags);
        log.WriteLine($"device: {backend.Name} ({backend.Device})");
        string arch = flags.String("arch")!;
        if (string.Equals(arch, "HeteroNet", StringComparison.OrdinalIgnoreCase)) return HeteroRun.Run(args, flags, backend, log);
        string mode = flags.String("mode")!;
        if (mode is not ("train" or "infer")) throw new CliException($"flag --mode: '{mode}' must be train or infer");
        if (mode == "infer" && !flags.Has("load_model")) throw new CliException("flag --load_model: --mode infer needs a checkpoint");
        if (mode == "infer" && string.Equals(arch, "MLP", StringComparison.OrdinalIgnoreCase))
            throw new CliException("flag --mode: infer is available for the particle-level architectures (PN, ParT, PFN)");
        if (flags.String("load_model") is { } ckpt && !File.Exists(ckpt)) throw new CliException($"flag --load_model: '{ckpt}' does not exist");
        int fixedLength = flags.Int("fixed_length");
        if (fixedLength < 1) throw new CliException($"flag --fixed_length: {fixedLength} must be positive");
        var observables = flags.Json<string[]>("Observables") ?? [];
        if (flags.String("data_root") is { } csvRoot && CsvTable.Present(csvRoot))
            return RunTabular(flags, backend, csvRoot, string.Join(" ", args), log);
        IJetStore store;
        if (flags.String("data_root") is { } dataRoot)
        {
            store = JetSources.Open(dataRoot, flags.Json<string[]>("labels"), observables, fixedLength, flags.Int("in_memory_jets"),
                flags.Switch("reject_nonfinite"), log);
        }
        else
        {
            if (observables.Length > 0) throw new CliException("flag --Observables: the built-in synthetic jets carry no observables");
            int jets = flags.Int("synthetic_jets");
            store = new InMemoryJetStore(SyntheticJets.Generate(jets, fixedLength, flags.Int("seed")), new Dictionary<string, float[]>());
            log.WriteLine($"data: {jets} built-in synthetic jets (top-like 3-prong vs QCD-like 1-prong)");
        }
        var settings = Settings(flags, [64, 64]);
        string config = string.Join(" ", args);
        EvaluationResult result;
        if (string.Equals(arch, "MLP", StringComparison.OrdinalIgnoreCase))
        {
            if (store is not InMemoryJetStore inMemory)
                throw new CliException($"flag --arch: MLP on jet observables needs the data in memory (at most --in_memory_jets {flags.Int("in_memory_jets")} jets)");
            log.WriteLine($"features: {string.Join(" ", JetObservables.Names)}");
            var features = JetObservables.Compute(inMemory.Jets);
            result = new TabularTrainer(backend, settings, log, flags.String("exp_dir")).Run(features, JetObservables.Names.Length, inMemory.Jets.Labels,
                inMemory.Jets.LabelNames, config);
            result = result with { Observables = inMemory.Observables.ToDictionary(kv => kv.Key, kv => result.Ids.Select(i => kv.Value[i]).ToArray()) };
        }
        else
        {
            var conditions = flags.Json<ProcessingCondition[]>("Processing_conditions") ?? ParticleFeatures.DefaultConditions;
            if (conditions.Length < 2) throw new CliException("flag --Processing_conditions: needs at least the two kNN coordinates");
            using var model = JetModel.Create(backend, flags, conditions.Length, store.LabelNames.Length, flags.Int("seed"));
            var trainer = new JetTrainer(backend, settings, log);
            if (mode == "infer")
            {
                CheckpointLoading.Load(flags.String("load_model")!, model.Module, log);
                result = trainer.Predict(model, store, conditions);
            }
            else
            {
                result = trainer.Run(model, store, conditions, flags.String("exp_dir")!, config);
                log.WriteLine($"checkpoints: {Path.Combine(flags.String("exp_dir")!, "best.ckpt")}, last.ckpt");
            }
        }
        log.WriteLine($"{(mode == "infer" ? "inference" : "final validation")}: {result.Metrics}");
        WritePredictions(flags, result, store.LabelNames, mode == "infer" ? "jets" : "held-out jets", log);
        return 0;
    }

    private static TabularSettings Settings(ParsedFlags flags, int[] hidden) => new(flags.Int("epochs"), flags.Int("batch_size"),
        flags.Double("learning_rate"), flags.Double("momentum"), flags.Double("weight_decay"), flags.String("optimizer")!, flags.String("lr_schedule")!,
        flags.Double("labelSmoothing"), flags.Double("val_fraction"), flags.Int("seed"), hidden, 0.1, flags.Switch("resume"), FlipRate(flags),
        flags.Int("in_memory_jets"));

    private static double FlipRate(ParsedFlags flags)
    {
        double rate = flags.Double("flip_rate");
        if (rate is < 0 or > 1 || double.IsNaN(rate)) throw new CliException($"flag --flip_rate: {rate} must be a probability in [0, 1]");
        return rate;
    }

    private static void WritePredictions(ParsedFlags flags, EvaluationResult result, string[] labelNames, string what, TextWriter log)
    {
        string outDir = flags.String("predict_output") ?? Path.Combine(flags.String("exp_dir")!, "predict_output");
        string path = Output.PredictionWriter.Write(outDir, flags.String("predict_format")!, result.Scores, result.Labels, labelNames, result.Observables);
        string roc = Path.Combine(outDir, "roc.png");
        Metrics.RocPlot.Write(roc, result.Scores, result.Labels, labelNames.Length, labelNames);
        log.WriteLine($"predictions: {path} ({result.Labels.Length} {what}); ROC curve: {roc}");
    }

    // MLP on a CSV table (e.g. HIGGS): --labels '["label"]' names the class column, --Processing_conditions the features.
    private static int RunTabular(ParsedFlags flags, Hep.Engine.IBackend backend, string dataRoot, string config, TextWriter log)
    {
        if (!string.Equals(flags.String("arch"), "MLP", StringComparison.OrdinalIgnoreCase))
            throw new CliException($"flag --arch: CSV data in '{dataRoot}' is tabular; use --arch MLP");
        var labelColumn = flags.Json<string[]>("labels") is { Length: > 0 } l ? l[0] : "label";
        var columns = flags.Json<ProcessingCondition[]>("Processing_conditions")?.Select(c => c.Name).ToArray();
        var table = CsvTable.Load(dataRoot, labelColumn, columns, log);
        var result = new TabularTrainer(backend, Settings(flags, [112, 112, 112]), log, flags.String("exp_dir"))
            .Run(table.Features, table.FeatureCount, table.Labels, table.LabelNames, config);
        log.WriteLine($"final validation: {result.Metrics}");
        WritePredictions(flags, result, table.LabelNames, "held-out rows", log);
        return 0;
    }
}
