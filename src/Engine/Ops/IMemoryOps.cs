namespace Hep.Engine.Ops;

/// <summary>Allocation, host transfers, strided copies, casts and fills.</summary>
public interface IMemoryOps
{
    /// <summary>New zero-filled buffer of <paramref name="length"/> elements; counted in LiveBufferStats.</summary>
    IDeviceBuffer Allocate(DType dtype, long length);

    /// <summary>
    /// New buffer whose contents are unspecified (a backend may hand back stale data or zeros), for an
    /// output that a kernel overwrites completely; counted in LiveBufferStats. Defaults to <see cref="Allocate"/>.
    /// </summary>
    IDeviceBuffer AllocateUninitialized(DType dtype, long length) => Allocate(dtype, length);

    /// <summary>Host → device: writes <paramref name="source"/> at element <paramref name="offset"/>.</summary>
    void Upload<T>(ReadOnlySpan<T> source, IDeviceBuffer destination, long offset) where T : unmanaged;

    /// <summary>Device → host: reads destination.Length elements from element <paramref name="offset"/>. Synchronises.</summary>
    void Download<T>(IDeviceBuffer source, long offset, Span<T> destination) where T : unmanaged;

    /// <summary>destination[i] = source[i] for two same-shape, same-dtype tensors with arbitrary strides (destination not overlapping).</summary>
    void Copy(Tensor source, Tensor destination);

    /// <summary>destination[i] = (TDst)source[i]; same shape, any strides, different dtypes.</summary>
    void Cast(Tensor source, Tensor destination);

    /// <summary>Sets every element of a (possibly strided) tensor to <paramref name="value"/>.</summary>
    void Fill(Tensor destination, double value);
}
