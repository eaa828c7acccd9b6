using System.Runtime.CompilerServices;
using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Device allocation, host transfers and strided copy/cast/fill (<see cref="MemoryKernels"/>).
/// Uploads and downloads synchronise the stream (the host span must stay valid only during the call);
/// everything else is queued on the backend's one stream.
/// </summary>
internal sealed class IlgpuMemoryOps(IlgpuBackend backend) : IMemoryOps
{
    public IDeviceBuffer Allocate(DType dtype, long length) => dtype switch
    {
        DType.Float32 => new IlgpuBuffer<float>(backend, length),
        DType.Float64 when backend.SupportsFloat64 => new IlgpuBuffer<double>(backend, length),
        DType.Float64 => throw new BackendNotSupportedException("Allocate", backend.Name, "the device has no float64"),
        DType.Int32 => new IlgpuBuffer<int>(backend, length),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    // ILGPU copies from/to a raw pointer taken from the ref it is given; the host memory is pinned
    // for the duration of the copy, or a GC compaction mid-copy would move a managed array under it.
    public unsafe void Upload<T>(ReadOnlySpan<T> source, IDeviceBuffer destination, long offset) where T : unmanaged
    {
        var view = Buffer<T>(destination, "Upload");
        if (offset < 0 || offset + source.Length > view.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Upload: {source.Length} elements at {offset} exceed a buffer of {view.Length}");
        if (source.IsEmpty) return;
        fixed (T* pinned = source)
        {
            view.SubView(offset, source.Length).CopyFromCPU(backend.Stream, ref Unsafe.AsRef<T>(pinned), source.Length);
            backend.Stream.Synchronize();
        }
    }

    public unsafe void Download<T>(IDeviceBuffer source, long offset, Span<T> destination) where T : unmanaged
    {
        var view = Buffer<T>(source, "Download");
        if (offset < 0 || offset + destination.Length > view.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Download: {destination.Length} elements at {offset} exceed a buffer of {view.Length}");
        if (destination.IsEmpty) return;
        fixed (T* pinned = destination)
        {
            view.SubView(offset, destination.Length).CopyToCPU(backend.Stream, ref Unsafe.AsRef<T>(pinned), destination.Length);
            backend.Stream.Synchronize();
        }
    }

    public void Copy(Tensor source, Tensor destination)
    {
        switch (source.DType)
        {
            case DType.Float32: CopyTyped<float>(source, destination); break;
            case DType.Float64: CopyTyped<double>(source, destination); break;
            default: CopyTyped<int>(source, destination); break;
        }
    }

    public void Cast(Tensor source, Tensor destination)
    {
        switch (source.DType, destination.DType)
        {
            case (DType.Float32, DType.Float64): CastTyped<float, double, F32ToF64>(source, destination); break;
            case (DType.Float64, DType.Float32): CastTyped<double, float, F64ToF32>(source, destination); break;
            case (DType.Int32, DType.Float32): CastTyped<int, float, I32ToF32>(source, destination); break;
            case (DType.Int32, DType.Float64): CastTyped<int, double, I32ToF64>(source, destination); break;
            case (DType.Float32, DType.Int32): CastTyped<float, int, F32ToI32>(source, destination); break;
            case (DType.Float64, DType.Int32): CastTyped<double, int, F64ToI32>(source, destination); break;
            default: Copy(source, destination); break;
        }
    }

    public void Fill(Tensor destination, double value)
    {
        switch (destination.DType)
        {
            case DType.Float32: FillTyped(destination, (float)value); break;
            case DType.Float64: FillTyped(destination, value); break;
            default: FillTyped(destination, checked((int)value)); break;
        }
    }

    private ArrayView<T> Buffer<T>(IDeviceBuffer buffer, string op) where T : unmanaged
    {
        if (buffer is IlgpuBuffer<T> b && ReferenceEquals(b.Owner, backend)) return b.View;
        if (!ReferenceEquals(buffer.Backend, backend))
            throw new DeviceMismatchException(op, $"{buffer.Backend.Name} buffer given to backend {backend.Name}");
        throw new ArgumentException($"{op}: buffer holds {buffer.DType}, not {typeof(T).Name}");
    }

    private void CopyTyped<T>(Tensor source, Tensor destination) where T : unmanaged
    {
        if (source.Numel == 0) return;
        var (dims, strides) = StridedLayout.Plan("Copy", backend.Name, source, destination);
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6>>(
            MemoryKernels.Copy<T>);
        kernel(backend.Stream, (int)source.Numel, IlgpuTensor.Whole<T>(source, backend, "Copy"),
            IlgpuTensor.Whole<T>(destination, backend, "Copy"), dims, strides[0], strides[1]);
    }

    private void CastTyped<TFrom, TTo, TConv>(Tensor source, Tensor destination)
        where TFrom : unmanaged
        where TTo : unmanaged
        where TConv : struct, IConversion<TFrom, TTo>
    {
        if (source.Numel == 0) return;
        var (dims, strides) = StridedLayout.Plan("Cast", backend.Name, source, destination);
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<TFrom>, ArrayView<TTo>, Dims6, Strides6, Strides6>>(
            MemoryKernels.Cast<TFrom, TTo, TConv>);
        kernel(backend.Stream, (int)source.Numel, IlgpuTensor.Whole<TFrom>(source, backend, "Cast"),
            IlgpuTensor.Whole<TTo>(destination, backend, "Cast"), dims, strides[0], strides[1]);
    }

    private void FillTyped<T>(Tensor destination, T value) where T : unmanaged
    {
        if (destination.Numel == 0) return;
        var (dims, strides) = StridedLayout.Plan("Fill", backend.Name, destination);
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, Dims6, Strides6, T>>(MemoryKernels.Fill<T>);
        kernel(backend.Stream, (int)destination.Numel, IlgpuTensor.Whole<T>(destination, backend, "Fill"), dims, strides[0], value);
    }
}
