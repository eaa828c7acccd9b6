using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Hep.Benchmarks.Models;

/// <summary>
/// Job for the full-model benchmarks: in-process (libtorch needs the build output's patched
/// libLibTorchSharp.so, see HotKernelConfig), monitoring strategy (one invocation per iteration, no
/// pilot or overhead stages: a ParT training step takes seconds on 2 cores), 1 warm-up and 5 measured
/// iterations. Methods are grouped by category (inference, training step); libtorch is each category's
/// baseline, so Ratio = engine time / libtorch time. A jets/s column divides the batch by the mean.
/// </summary>
public sealed class ModelBenchmarkConfig : ManualConfig
{
    public ModelBenchmarkConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1)
            .WithId("Monitoring-InProcess"));
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        AddColumn(new JetsPerSecondColumn());
    }

    private sealed class JetsPerSecondColumn : IColumn
    {
        public string Id => "JetsPerSecond";
        public string ColumnName => "jets/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => $"jets per second: B = {ModelSides.Batch} / mean time";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            return stats is null ? "NA" : (ModelSides.Batch / (stats.Mean * 1e-9)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
