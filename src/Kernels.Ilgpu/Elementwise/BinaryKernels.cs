namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Broadcasting binary maps and Where. Inputs are views already expanded to the output's shape
/// (stride 0 on broadcast axes), read in place through <see cref="Strides6"/>; the output is
/// contiguous. Thread mapping: one thread per output element. Comparisons give 1 or 0. Deterministic.
/// </summary>
internal static class BinaryKernels
{
    // y[i] = a[i] ∘ b[i]
    [KernelEntry]
    public static void Binary<T, TS>(Index1D i, ArrayView<T> a, ArrayView<T> b, ArrayView<T> y, Dims6 dims, Strides6 aStrides, Strides6 bStrides,
        int yOffset, BinaryOp op)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        y[yOffset + i] = Apply(op, a[aStrides.At(i, dims)], b[bStrides.At(i, dims)]);
    }

    // y[i] = cond[i] ≠ 0 ? a[i] : b[i]
    [KernelEntry]
    public static void Where<T, TS>(Index1D i, ArrayView<T> cond, ArrayView<T> a, ArrayView<T> b, ArrayView<T> y, Dims6 dims,
        Strides6 condStrides, Strides6 aStrides, Strides6 bStrides, int yOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        y[yOffset + i] = cond[condStrides.At(i, dims)] != T.Zero ? a[aStrides.At(i, dims)] : b[bStrides.At(i, dims)];
    }

    private static T Apply<T>(BinaryOp op, T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: return a + b;
            case BinaryOp.Sub: return a - b;
            case BinaryOp.Mul: return a * b;
            case BinaryOp.Div: return a / b;
            case BinaryOp.Max: return T.Max(a, b);
            case BinaryOp.Min: return T.Min(a, b);
            case BinaryOp.Pow: return T.Pow(a, b);
            case BinaryOp.Greater: return a > b ? T.One : T.Zero;
            case BinaryOp.Less: return a < b ? T.One : T.Zero;
            default: return a == b ? T.One : T.Zero;
        }
    }
}
