using System.Collections.Concurrent;
using System.Reflection;
using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Loads each kernel once per backend (first use) and hands out the typed launcher. Keyed by the
/// instantiated kernel method, so float and double instantiations are cached separately.
/// </summary>
internal sealed class KernelCache(Accelerator accelerator)
{
    private readonly ConcurrentDictionary<MethodInfo, Delegate> _loaded = new();

    /// <summary>Number of kernels compiled and loaded so far.</summary>
    public int Count => _loaded.Count;

    /// <summary>An implicitly grouped kernel (first parameter Index1D): launcher (stream, extent, args…).</summary>
    public TLauncher Implicit<TLauncher>(Delegate kernel) where TLauncher : Delegate =>
        (TLauncher)_loaded.GetOrAdd(kernel.Method, m => accelerator.LoadAutoGroupedKernel<TLauncher>(m));

    /// <summary>An explicitly grouped kernel: launcher (stream, KernelConfig, args…).</summary>
    public TLauncher Explicit<TLauncher>(Delegate kernel) where TLauncher : Delegate =>
        (TLauncher)_loaded.GetOrAdd(kernel.Method, m => accelerator.LoadKernel<TLauncher>(m));
}

/// <summary>Marks a static method as a device kernel (enumerated by <see cref="KernelCatalog"/>).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class KernelEntryAttribute : Attribute
{
}
