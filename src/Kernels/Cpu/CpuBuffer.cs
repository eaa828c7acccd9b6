using Hep.Engine;
using Hep.Engine.Diagnostics;

namespace Hep.Kernels.Cpu;

/// <summary>A host array owned by the CPU backend (large ones recycled through <see cref="CpuArrayPool{T}"/>); counted in <see cref="LiveBufferStats"/> until disposed.</summary>
internal sealed class CpuBuffer<T> : IDeviceBuffer where T : unmanaged
{
    private T[]? _data;

    public CpuBuffer(CpuBackend backend, long length, bool clear = true)
    {
        if (length > Array.MaxLength) throw new OutOfMemoryException($"cpu: {length} elements exceed the largest array");
        Backend = backend;
        Length = length;
        _data = CpuArrayPool<T>.Rent((int)length, clear);
        LiveBufferStats.OnAllocated(backend.Name, Bytes);
    }

    public IBackend Backend { get; }
    public DType DType => DTypeExtensions.Of<T>();
    public long Length { get; }
    private long Bytes => Length * DType.SizeOf();

    public T[] Data => _data ?? throw new TensorDisposedException("cpu buffer");

    public void Dispose()
    {
        if (_data is null) return;
        CpuArrayPool<T>.Return(_data);
        _data = null;
        LiveBufferStats.OnReleased(Backend.Name, Bytes);
    }
}
