namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Counter-based random fills: element i is a pure function of (seed, i) through
/// <see cref="CounterRng"/> (the engine's own integer generator, compiled into the kernel), so the
/// dropout mask is bit-identical to the CPU backend's. One thread per element. Deterministic.
/// </summary>
internal static class RandomKernels
{
    // mask[i] = u(seed, i) ≥ p ? keep : 0, decided in double exactly as on the CPU.
    [KernelEntry]
    public static void DropoutMask<T, TS>(Index1D i, ArrayView<T> mask, ulong seed, double p, double keep)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        mask[i] = TS.FromDouble(CounterRng.Uniform(seed, i) >= p ? keep : 0);
    }

    // y[i] = low + (high − low)·u(seed, i)
    [KernelEntry]
    public static void Uniform<T, TS>(Index1D i, ArrayView<T> y, ulong seed, double low, double high)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        y[i] = TS.FromDouble(low + (high - low) * CounterRng.Uniform(seed, i));
    }
}
