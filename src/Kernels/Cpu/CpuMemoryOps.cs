using System.Numerics.Tensors;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Host allocation, transfers, strided copy/cast/fill over <see cref="StridedRows"/> segments (both cores,
/// long rows split). Unit-stride segments use span copies, fills and TensorPrimitives conversions, with
/// non-temporal stores for large outputs (<see cref="StreamingStores"/>); other segments use a strided loop.
/// </summary>
internal sealed class CpuMemoryOps(CpuBackend backend) : IMemoryOps
{
    public IDeviceBuffer Allocate(DType dtype, long length) => dtype switch
    {
        DType.Float32 => new CpuBuffer<float>(backend, length),
        DType.Float64 => new CpuBuffer<double>(backend, length),
        DType.Int32 => new CpuBuffer<int>(backend, length),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>A recycled array is handed back as it was left (no clearing pass); a fresh one is zero.</summary>
    public IDeviceBuffer AllocateUninitialized(DType dtype, long length) => dtype switch
    {
        DType.Float32 => new CpuBuffer<float>(backend, length, clear: false),
        DType.Float64 => new CpuBuffer<double>(backend, length, clear: false),
        DType.Int32 => new CpuBuffer<int>(backend, length, clear: false),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public void Upload<T>(ReadOnlySpan<T> source, IDeviceBuffer destination, long offset) where T : unmanaged =>
        source.CopyTo(Data<T>(destination, "Upload").AsSpan((int)offset));

    public void Download<T>(IDeviceBuffer source, long offset, Span<T> destination) where T : unmanaged =>
        Data<T>(source, "Download").AsSpan((int)offset, destination.Length).CopyTo(destination);

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
            case (DType.Float32, DType.Float64): CastTyped<float, double>(source, destination); break;
            case (DType.Float64, DType.Float32): CastTyped<double, float>(source, destination); break;
            case (DType.Int32, DType.Float32): CastTyped<int, float>(source, destination); break;
            case (DType.Int32, DType.Float64): CastTyped<int, double>(source, destination); break;
            case (DType.Float32, DType.Int32): CastTyped<float, int>(source, destination); break;
            case (DType.Float64, DType.Int32): CastTyped<double, int>(source, destination); break;
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

    private static T[] Data<T>(IDeviceBuffer buffer, string op) where T : unmanaged =>
        buffer is CpuBuffer<T> b ? b.Data : throw new ArgumentException($"{op}: buffer holds {buffer.DType}, not {typeof(T).Name} (or is not a cpu buffer)");

    // Unit-stride segments: span copy (memmove), or a non-temporal AVX-512 copy for large outputs;
    // a broadcast source (stride 0) fills; other segments use a strided element loop.
    private static void CopyTyped<T>(Tensor source, Tensor destination) where T : unmanaged
    {
        var src = CpuTensor.Array<T>(source, "Copy");
        var dst = CpuTensor.Array<T>(destination, "Copy");
        var plan = new StridedRows(source, destination);
        int ss = plan.InnerStrides[0], ds = plan.InnerStrides[1];
        bool stream = ds == 1 && StreamingStores.Pays<T>(plan.Elements);
        plan.Run((o, n) =>
        {
            if (ss == 1 && ds == 1 && stream) StreamingStores.Copy<T>(src.AsSpan(o[0], n), dst.AsSpan(o[1], n));
            else if (ss == 1 && ds == 1) src.AsSpan(o[0], n).CopyTo(dst.AsSpan(o[1], n));
            else if (ss == 0 && ds == 1 && stream) StreamingStores.Fill(dst.AsSpan(o[1], n), src[o[0]]);
            else if (ss == 0 && ds == 1) dst.AsSpan(o[1], n).Fill(src[o[0]]);
            else for (int i = 0; i < n; i++) dst[o[1] + i * ds] = src[o[0] + i * ss];
        });
    }

    // Unit-stride segments: TensorPrimitives conversions (block by block through L1 and streamed out for
    // large outputs); other segments use a strided element loop.
    private static void CastTyped<TFrom, TTo>(Tensor source, Tensor destination)
        where TFrom : unmanaged, System.Numerics.INumberBase<TFrom>
        where TTo : unmanaged, System.Numerics.INumberBase<TTo>
    {
        var src = CpuTensor.Array<TFrom>(source, "Cast");
        var dst = CpuTensor.Array<TTo>(destination, "Cast");
        var plan = new StridedRows(source, destination);
        int ss = plan.InnerStrides[0], ds = plan.InnerStrides[1];
        bool stream = ds == 1 && StreamingStores.Pays<TTo>(plan.Elements);
        plan.Run((o, n) =>
        {
            int os = o[0];
            if (ss == 1 && ds == 1 && stream)
            {
                StreamingStores.Blocks(dst.AsSpan(o[1], n), stream, (s, d) =>
                    TensorPrimitives.ConvertTruncating<TFrom, TTo>(src.AsSpan(os + s, d.Length), d));
            }
            else if (ss == 1 && ds == 1)
            {
                StreamingStores.Cached(dst.AsSpan(o[1], n), (s, d) =>
                    TensorPrimitives.ConvertTruncating<TFrom, TTo>(src.AsSpan(os + s, d.Length), d));
            }
            else for (int i = 0; i < n; i++) dst[o[1] + i * ds] = TTo.CreateTruncating(src[os + i * ss]);
        }, 2);
    }

    // Unit-stride segments: span fill, or non-temporal stores for large outputs; otherwise a strided loop.
    private static void FillTyped<T>(Tensor destination, T value) where T : unmanaged
    {
        var dst = CpuTensor.Array<T>(destination, "Fill");
        var plan = new StridedRows(destination);
        int ds = plan.InnerStrides[0];
        bool stream = ds == 1 && StreamingStores.Pays<T>(plan.Elements);
        plan.Run((o, n) =>
        {
            if (ds == 1 && stream) StreamingStores.Fill(dst.AsSpan(o[0], n), value);
            else if (ds == 1) dst.AsSpan(o[0], n).Fill(value);
            else for (int i = 0; i < n; i++) dst[o[0] + i * ds] = value;
        });
    }
}
