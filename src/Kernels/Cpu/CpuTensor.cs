using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>Host-memory access to CPU tensors for kernels (throws for tensors of other backends).</summary>
internal static class CpuTensor
{
    public static T[] Array<T>(Tensor t, string op) where T : unmanaged
    {
        if (t.Buffer is CpuBuffer<T> b) return b.Data;
        if (t.Buffer is not IDeviceBuffer { Backend: CpuBackend })
            throw new DeviceMismatchException(op, $"{t.Backend.Name} tensor given to the cpu backend");
        throw new ArgumentException($"{op}: expected {typeof(T).Name} data, tensor has {t.DType}");
    }

    /// <summary>The elements of a contiguous tensor as a span.</summary>
    public static Span<T> Span<T>(Tensor t, string op) where T : unmanaged
    {
        if (!t.IsContiguous) throw new ArgumentException($"{op}: cpu kernel needs a contiguous tensor, got strides [{string.Join(",", t.Strides.ToArray())}]");
        return Array<T>(t, op).AsSpan(t.Offset, (int)t.Numel);
    }

    /// <summary>(outer, n, inner) decomposition of a shape around an axis.</summary>
    public static (int Outer, int N, int Inner) AroundAxis(Shape shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Rank; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }
}
