using Hep.Kernels.Cpu;

namespace Hep.TestSupport;

/// <summary>
/// Makes CPU buffers allocated uninitialized (outputs an op promises to overwrite completely, see
/// Tensor.Empty) start as all-ones bits — NaN for floats, −1 for int32 — so a kernel that leaves part of
/// such an output unwritten fails its value tests instead of passing on whatever a recycled array held.
/// Test assemblies switch it on for their whole run with a [SetUpFixture].
/// </summary>
public static class UninitializedPoison
{
    public static void Set(bool on)
    {
        CpuArrayPool<float>.PoisonUninitialized = on;
        CpuArrayPool<double>.PoisonUninitialized = on;
        CpuArrayPool<int>.PoisonUninitialized = on;
    }
}

/// <summary>
/// The base of each test assembly's [SetUpFixture] (NUnit finds those only in the test assembly itself):
/// poisoning on for the assembly's run, off after it.
/// </summary>
public abstract class UninitializedPoisonFixture
{
    [OneTimeSetUp]
    public void Enable() => UninitializedPoison.Set(true);

    [OneTimeTearDown]
    public void Disable() => UninitializedPoison.Set(false);
}
