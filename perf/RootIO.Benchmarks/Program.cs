using BenchmarkDotNet.Running;

namespace Hep.RootIO.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release --project perf/Engine.Benchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
