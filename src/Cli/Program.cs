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
        var flags = ParsedFlags.Parse(args);
        if (flags.Switch("help"))
        {
            log.Write(ParsedFlags.Help());
            return 0;
        }
        var backend = DeviceSelection.Select(flags);
        log.WriteLine($"device: {backend.Name} ({backend.Device})");
        string arch = flags.String("arch")!;
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
            return RunTabular(flags, backend, csvRoot, log);
        JetSet set;
        Dictionary<string, float[]> observed;
        if (flags.String("data_root") is { } dataRoot)
        {
            (set, observed) = JetSources.Load(dataRoot, flags.Json<string[]>("labels"), observables, fixedLength, log);
        }
        else
        {
            if (observables.Length > 0) throw new CliException("flag --Observables: the built-in synthetic jets carry no observables");
            int jets = flags.Int("synthetic_jets");
            set = SyntheticJets.Generate(jets, fixedLength, flags.Int("seed"));
            observed = [];
            log.WriteLine($"data: {jets} built-in synthetic jets (top-like 3-prong vs QCD-like 1-prong)");
        }
        var settings = new TabularSettings(flags.Int("epochs"), flags.Int("batch_size"), flags.Double("learning_rate"), flags.Double("momentum"),
            flags.Double("weight_decay"), flags.String("optimizer")!, flags.String("lr_schedule")!, flags.Double("labelSmoothing"),
            flags.Double("val_fraction"), flags.Int("seed"), [64, 64], 0.1);
        TabularResult result;
        if (string.Equals(arch, "MLP", StringComparison.OrdinalIgnoreCase))
        {
            log.WriteLine($"features: {string.Join(" ", JetObservables.Names)}");
            var features = JetObservables.Compute(set);
            result = new TabularTrainer(backend, settings, log, flags.String("exp_dir")).Run(features, JetObservables.Names.Length, set.Labels, set.LabelNames);
        }
        else
        {
            var conditions = flags.Json<ProcessingCondition[]>("Processing_conditions") ?? ParticleFeatures.DefaultConditions;
            if (conditions.Length < 2) throw new CliException("flag --Processing_conditions: needs at least the two kNN coordinates");
            using var model = JetModel.Create(backend, flags, conditions.Length, set.LabelNames.Length, flags.Int("seed"));
            var trainer = new JetTrainer(backend, settings, log);
            if (mode == "infer")
            {
                CheckpointLoading.Load(flags.String("load_model")!, model.Module, log);
                var (metrics, scores) = trainer.Predict(model, set, conditions);
                result = new TabularResult(metrics, Enumerable.Range(0, set.Count).ToArray(), scores);
            }
            else
            {
                string config = string.Join(" ", args);
                result = trainer.Run(model, set, conditions, flags.String("exp_dir")!, config);
                log.WriteLine($"checkpoints: {Path.Combine(flags.String("exp_dir")!, "best.ckpt")}, last.ckpt");
            }
        }
        log.WriteLine($"{(mode == "infer" ? "inference" : "final validation")}: {result.Metrics}");
        string outDir = flags.String("predict_output") ?? Path.Combine(flags.String("exp_dir")!, "predict_output");
        var rows = result.HeldOutRows;
        var heldObs = observed.ToDictionary(kv => kv.Key, kv => rows.Select(r => kv.Value[r]).ToArray());
        string path = Output.PredictionWriter.Write(outDir, flags.String("predict_format")!, result.Scores, rows.Select(r => set.Labels[r]).ToArray(),
            set.LabelNames, heldObs);
        log.WriteLine($"predictions: {path} ({rows.Length} held-out jets)");
        return 0;
    }

    // MLP on a CSV table (e.g. HIGGS): --labels '["label"]' names the class column, --Processing_conditions the features.
    private static int RunTabular(ParsedFlags flags, Hep.Engine.IBackend backend, string dataRoot, TextWriter log)
    {
        if (!string.Equals(flags.String("arch"), "MLP", StringComparison.OrdinalIgnoreCase))
            throw new CliException($"flag --arch: CSV data in '{dataRoot}' is tabular; use --arch MLP");
        var labelColumn = flags.Json<string[]>("labels") is { Length: > 0 } l ? l[0] : "label";
        var columns = flags.Json<ProcessingCondition[]>("Processing_conditions")?.Select(c => c.Name).ToArray();
        var table = CsvTable.Load(dataRoot, labelColumn, columns, log);
        var settings = new TabularSettings(flags.Int("epochs"), flags.Int("batch_size"), flags.Double("learning_rate"), flags.Double("momentum"),
            flags.Double("weight_decay"), flags.String("optimizer")!, flags.String("lr_schedule")!, flags.Double("labelSmoothing"),
            flags.Double("val_fraction"), flags.Int("seed"), [112, 112, 112], 0.1);
        var result = new TabularTrainer(backend, settings, log, flags.String("exp_dir")).Run(table.Features, table.FeatureCount, table.Labels, table.LabelNames);
        log.WriteLine($"final validation: {result.Metrics}");
        string outDir = flags.String("predict_output") ?? Path.Combine(flags.String("exp_dir")!, "predict_output");
        var path = Output.PredictionWriter.Write(outDir, flags.String("predict_format")!, result.Scores,
            result.HeldOutRows.Select(r => table.Labels[r]).ToArray(), table.LabelNames, new Dictionary<string, float[]>());
        log.WriteLine($"predictions: {path} ({result.HeldOutRows.Length} held-out rows)");
        return 0;
    }
}
