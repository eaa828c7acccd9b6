namespace Hep.Engine;

/// <summary>
/// One allocation on a backend: a flat array of <see cref="Length"/> elements of <see cref="DType"/>.
/// Created by <see cref="Ops.IMemoryOps.Allocate"/>, owned by exactly one <see cref="Storage"/>.
/// Disposal frees the memory immediately (no finalizers free device memory).
/// </summary>
public interface IDeviceBuffer : IDisposable
{
    IBackend Backend { get; }
    DType DType { get; }
    long Length { get; }
}
