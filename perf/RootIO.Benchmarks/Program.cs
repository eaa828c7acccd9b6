// Entry point of the RootIO benchmarks:
//   dotnet run -c Release --project perf/RootIO.Benchmarks -- --filter '*'
using BenchmarkDotNet.Running;

namespace Hep.RootIO.Benchmarks;

public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
