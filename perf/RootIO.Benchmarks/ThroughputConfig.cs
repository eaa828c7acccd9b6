// ThroughputConfig / ThroughputColumn: a short in-process BenchmarkDotNet job plus a column reporting MB/s
// of uncompressed basket payload (payload size handed over from GlobalSetup through a temp file,
// since benchmarks run in a child process).
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Hep.RootIO.Benchmarks;

public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig()
    {
        // In-process: the project file name differs from the assembly name, which BenchmarkDotNet's
        // out-of-process toolchain cannot resolve; in-process timing is adequate for these I/O loops.
        AddJob(Job.ShortRun.WithWarmupCount(2).WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance));
        AddColumn(new ThroughputColumn());
    }
}

public sealed class ThroughputColumn : IColumn
{
    public static readonly string PayloadFile = Path.Combine(Path.GetTempPath(), "rootio-bench-payload.txt");

    public static long PayloadBytes { get; set; }

    public string Id => "PayloadMBps";
    public string ColumnName => "MB/s payload";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Uncompressed basket payload divided by the mean time";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        long bytes = PayloadBytes > 0 ? PayloadBytes : File.Exists(PayloadFile) ? long.Parse(File.ReadAllText(PayloadFile)) : 0;
        if (stats is null || bytes == 0) return "n/a";
        return (bytes / 1e6 / (stats.Mean / 1e9)).ToString("F0");
    }
}
