using Hep.Engine.Diagnostics;
using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// One device allocation (an ILGPU <see cref="MemoryBuffer1D{T, TStride}"/>) owned by exactly one
/// <see cref="Storage"/>. Counted in <see cref="LiveBufferStats"/> under the backend's name and freed
/// only by <see cref="Dispose"/> (the storage's last reference); there is no finalizer freeing GPU memory.
/// </summary>
internal sealed class IlgpuBuffer<T> : IDeviceBuffer where T : unmanaged
{
    private MemoryBuffer1D<T, Stride1D.Dense>? _memory;

    public IlgpuBuffer(IlgpuBackend backend, long length)
    {
        if (length > int.MaxValue) throw new BackendNotSupportedException("Allocate", backend.Name, $"{length} elements exceed 2³¹ − 1");
        Owner = backend;
        Length = length;
        // ILGPU rejects empty buffers; an empty tensor still owns a one-element allocation.
        _memory = backend.Accelerator.Allocate1D<T>(Math.Max(length, 1));
        _memory.View.MemSetToZero(backend.Stream);
        LiveBufferStats.OnAllocated(backend.Name, Bytes);
    }

    public IlgpuBackend Owner { get; }
    public IBackend Backend => Owner;
    public DType DType => DTypeExtensions.Of<T>();
    public long Length { get; }
    private long Bytes => Length * DType.SizeOf();

    /// <summary>The whole allocation as a view (Length elements).</summary>
    public ArrayView<T> View =>
        (_memory ?? throw new TensorDisposedException($"{Owner.Name} buffer")).View.SubView(0, Length).AsContiguous();

    public void Dispose()
    {
        var memory = Interlocked.Exchange(ref _memory, null);
        if (memory is null) return;
        memory.Dispose();
        LiveBufferStats.OnReleased(Owner.Name, Bytes);
    }
}
