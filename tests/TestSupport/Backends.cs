using Hep.Engine;
using Hep.Kernels.Cpu;

namespace Hep.TestSupport;

/// <summary>
/// The backends a test runs on. Tests take an <see cref="IBackend"/> parameter sourced from
/// <see cref="All"/> so one body covers every backend present.
/// </summary>
public static class Backends
{
    public static IBackend Cpu => CpuBackend.Shared;


    /// <summary>Fixture arguments: one fixture instance per backend.</summary>
    public static IEnumerable<TestFixtureData> All()
    {
        yield return new TestFixtureData(Cpu).SetArgDisplayNames("cpu");
    }
}
