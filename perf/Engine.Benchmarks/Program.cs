using BenchmarkDotNet.Running;
using Hep.Benchmarks.Models;

namespace Hep.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project perf/Engine.Benchmarks -- --filter '*'</c>;
/// <c>-- --model-memory …</c> runs the full-model peak-memory harness (see <see cref="ModelHarness"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--model-memory") return ModelHarness.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
