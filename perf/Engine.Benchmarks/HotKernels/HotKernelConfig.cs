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
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortRun-InProcess"));
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
    }
}
