using System.Diagnostics;
using System.Globalization;
using Hep.Engine.Diagnostics;
using Hep.Kernels.Cpu;

namespace Hep.Benchmarks.Models;

/// <summary>
/// Peak-memory harness for the full-model benchmarks (BenchmarkDotNet's MemoryDiagnoser sees only the
/// managed heap, not libtorch's native memory). One side, one model, one mode per process:
/// <code>Engine.Benchmarks --model-memory pn|part engine|libtorch|libtorch-sdpa inference|training [steps]</code>
/// builds the side (model, batch of B = 128 real jets, optimiser), runs one warm-up step, resets the
/// kernel's peak-RSS mark (/proc/self/clear_refs), runs the steps and prints the process peak RSS
/// (VmHWM), the RSS after setup, the engine's peak live tensor bytes (LiveBufferStats) and the mean
/// step time. Run each configuration in a fresh process.
/// </summary>
internal static class ModelHarness
{
    public static int Run(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: --model-memory pn|part engine|libtorch|libtorch-sdpa inference|training [steps]");
            return 2;
        }
        var kind = args[0] switch
        {
            "pn" => ModelKind.ParticleNet,
            "part" => ModelKind.ParticleTransformer,
            _ => throw new ArgumentException($"--model-memory: unknown model '{args[0]}' (pn, part)"),
        };
        bool training = args[2] switch
        {
            "inference" => false,
            "training" => true,
            _ => throw new ArgumentException($"--model-memory: unknown mode '{args[2]}' (inference, training)"),
        };
        int steps = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var jets = BenchmarkJets.TopLandscape(ModelSides.Batch);
        if (args[1] == "check")
        {
            // The agreement check the benchmarks run in their setup, on its own (both attention forms).
            foreach (bool fused in new[] { false, true })
            {
                var (engine, torchSide) = ModelSides.Matched(kind, jets, fused);
                Console.WriteLine($"{kind}: engine and libtorch (fused attention {fused}) agree; {engine.ParameterCount:N0} parameters each");
                engine.Dispose();
                torchSide.Dispose();
            }
            return 0;
        }
        long before = Status("VmRSS");
        using IModelSide side = args[1] switch
        {
            "engine" => ModelSides.Engine(kind, jets),
            "libtorch" => ModelSides.Torch(kind, jets, fusedAttention: false),
            "libtorch-sdpa" => ModelSides.Torch(kind, jets, fusedAttention: true),
            _ => throw new ArgumentException($"--model-memory: unknown side '{args[1]}' (engine, libtorch, libtorch-sdpa)"),
        };
        Action step = training ? side.TrainStep : side.Infer;
        step();
        long afterSetup = Status("VmRSS");
        File.WriteAllText("/proc/self/clear_refs", "5");
        LiveBufferStats.ResetPeak(CpuBackend.Shared.Name);
        long liveBefore = LiveBufferStats.Bytes(CpuBackend.Shared.Name);
        var times = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            step();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        long peak = Status("VmHWM");
        double mean = times.Average();
        Console.WriteLine(FormattableString.Invariant(
            $"model={args[0]} side={args[1]} mode={args[2]} steps={steps} GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "-"}"));
        Console.WriteLine(FormattableString.Invariant(
            $"  step ms: mean {mean:F1}, min {times.Min():F1}, max {times.Max():F1}; {ModelSides.Batch * 1000 / mean:F1} jets/s"));
        Console.WriteLine(FormattableString.Invariant(
            $"  RSS: start {before / 1024.0:F0} MiB, after setup + 1 step {afterSetup / 1024.0:F0} MiB, peak over the steps {peak / 1024.0:F0} MiB"));
        if (args[1] == "engine")
        {
            long livePeak = LiveBufferStats.PeakBytes(CpuBackend.Shared.Name);
            Console.WriteLine(FormattableString.Invariant(
                $"  engine live tensors: {liveBefore / 1048576.0:F1} MiB between steps, peak {livePeak / 1048576.0:F1} MiB during a step"));
        }
        return 0;
    }

    // A /proc/self/status field in KiB.
    private static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }
}
