using Hep.Cli.Data;
using Hep.Cli.Options;
using Hep.Cli.Training;
using Hep.Kernels.Cpu;

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
        var flags = ParsedFlags.Parse(args);
        if (flags.Switch("help"))
        {
            log.Write(ParsedFlags.Help());
            return 0;
        }
        if (flags.Has("gpu") || flags.String("device") != "cpu")
            throw new CliException($"flag --{(flags.Has("gpu") ? "gpu" : "device")}: only the cpu backend is wired into the CLI so far");
        var backend = CpuBackend.Shared;
        log.WriteLine($"device: {backend}");
        string arch = flags.String("arch")!;
        if (!string.Equals(arch, "MLP", StringComparison.OrdinalIgnoreCase))
            throw new CliException($"flag --arch: '{arch}' is not available in this build yet (available: MLP)");
        if (flags.Has("data_root")) throw new CliException("flag --data_root: reading user data is not wired into the CLI yet; omit it to train on the built-in synthetic jets");

        int jets = flags.Int("synthetic_jets");
        var set = SyntheticJets.Generate(jets, flags.Int("fixed_length"), flags.Int("seed"));
        log.WriteLine($"data: {jets} built-in synthetic jets (top-like 3-prong vs QCD-like 1-prong), features: {string.Join(" ", JetObservables.Names)}");
        var features = JetObservables.Compute(set);
        var settings = new TabularSettings(flags.Int("epochs"), flags.Int("batch_size"), flags.Double("learning_rate"), flags.Double("momentum"),
            flags.Double("weight_decay"), flags.String("optimizer")!, flags.String("lr_schedule")!, flags.Double("labelSmoothing"),
            flags.Double("val_fraction"), flags.Int("seed"), [64, 64], 0.1);
        var metrics = new TabularTrainer(backend, settings, log).Run(features, JetObservables.Names.Length, set.Labels, set.LabelNames);
        log.WriteLine($"final validation: {metrics}");
        return 0;
    }
}
