using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Hep.Benchmarks.HotKernels;

/// <summary>
/// Short in-process job for the hot-kernel benchmarks. In-process because the libtorch side needs the
/// build output's libLibTorchSharp.so, patched by the project's RelaxLibTorchSharpGlibcxx target (a
/// separately generated benchmark project would copy the unpatched one). Methods are grouped by
/// category; the libtorch composition is each category's baseline, so Ratio = engine time / libtorch time.
/// </summary>
public sealed class HotKernelConfig : ManualConfig
{
    public HotKernelConfig()
    {
        // ShortRun's single launch and 3 warm-ups, with 9 measured iterations: the shared machine is noisy,
        // so the Min and Median columns are shown beside the mean.
        AddJob(Job.ShortRun.WithIterationCount(9).WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortRun-InProcess"));
        AddColumn(StatisticColumn.Min, StatisticColumn.Median);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
    }
}
