using Hep.Engine;
using Hep.Kernels.Cpu;
using Hep.Kernels.Ilgpu;

namespace Hep.TestSupport;

/// <summary>
/// The backends a test runs on. Tests take an <see cref="IBackend"/> parameter sourced from
/// <see cref="All"/> so one body covers every backend present.
/// </summary>
public static class Backends
{
    private static readonly Lazy<IlgpuBackend> IlgpuCpuInstance = new(() => IlgpuBackend.Create(IlgpuDeviceKind.Cpu));

    public static IBackend Cpu => CpuBackend.Shared;

    /// <summary>
    /// ILGPU on its CPU accelerator (a GPU-kernel simulator, so CI exercises every ILGPU kernel without a
    /// GPU): one lazily created instance shared by the whole test run, so kernels compile once.
    /// CUDA/OpenCL devices are exercised by Ilgpu.Tests' self-check when present.
    /// </summary>
    public static IlgpuBackend IlgpuCpu => IlgpuCpuInstance.Value;

    /// <summary>Fixture arguments: one fixture instance per backend.</summary>
    public static IEnumerable<TestFixtureData> All()
    {
        yield return new TestFixtureData(Cpu).SetArgDisplayNames("cpu");
        yield return new TestFixtureData(IlgpuCpu).SetArgDisplayNames("ilgpu-cpu");
    }
}
