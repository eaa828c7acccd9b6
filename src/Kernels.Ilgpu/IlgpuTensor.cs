namespace Hep.Kernels.Ilgpu;

/// <summary>Device views of tensors for kernel launches (throws for tensors of another backend).</summary>
internal static class IlgpuTensor
{
    /// <summary>The tensor's whole buffer; kernels add the tensor's offset and strides themselves.</summary>
    public static ArrayView<T> Whole<T>(Tensor t, IlgpuBackend backend, string op) where T : unmanaged
    {
        var buffer = t.Buffer;
        if (buffer is IlgpuBuffer<T> b && ReferenceEquals(b.Owner, backend)) return b.View;
        if (!ReferenceEquals(buffer.Backend, backend))
            throw new DeviceMismatchException(op, $"{t.Backend.Name} tensor given to backend {backend.Name}");
        throw new ArgumentException($"{op}: expected {typeof(T).Name} data, tensor has {t.DType}");
    }

    /// <summary>The elements of a contiguous tensor (offset applied).</summary>
    public static ArrayView<T> Dense<T>(Tensor t, IlgpuBackend backend, string op) where T : unmanaged
    {
        if (!t.IsContiguous)
            throw new ArgumentException($"{op}({backend.Name}): kernel needs a contiguous tensor, got strides [{string.Join(",", t.Strides.ToArray())}]");
        return Whole<T>(t, backend, op).SubView(t.Offset, t.Numel);
    }

    /// <summary>(outer, n, inner) decomposition of a shape around an axis.</summary>
    public static (int Outer, int N, int Inner) AroundAxis(Shape shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Rank; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }

    /// <summary>Rows × last-axis length of a contiguous tensor (rank 0 counts as one row of one).</summary>
    public static (int Rows, int N) Rows(Tensor t)
    {
        int n = t.Shape.Rank == 0 ? 1 : t.Shape[^1];
        int rows = n == 0 ? 0 : (int)(t.Numel / n);
        return (rows, n);
    }
}
