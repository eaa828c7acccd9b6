namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Where each row's additive mask lives: the mask is a view of x's shape; Lead holds x's leading
/// dims (all but the last, right-aligned), Mask the view's offset and leading strides; Step is the
/// last-axis stride (1, or 0 when broadcast). HasMask = 0: no mask (placeholder view).
/// </summary>
internal struct MaskedRowArgs
{
    public Dims6 Lead;
    public Strides6 Mask;
    public int N, Step, HasMask;
}

/// <summary>
/// y = softmax(x + mask) over the last axis of contiguous (rows, n) x and y; the mask is read in
/// place through its (possibly broadcast) strides. Thread mapping as <see cref="SoftmaxKernels"/>:
/// one group per row with shared-memory tree reductions (<see cref="Forward"/>), or one thread per
/// row for n &lt; 32 (<see cref="ForwardPerThread"/>); both run the same row body. The max is
/// subtracted first (large logits stay finite); a row whose every entry is −∞ gives zeros, never NaN.
/// The backward is the plain softmax backward (<see cref="SoftmaxKernels.Backward{T, TS}"/>):
/// masked entries have y = 0 and get 0. Fixed reduction order: deterministic.
/// </summary>
internal static class MaskedSoftmaxKernels
{
    [KernelEntry]
    public static void Forward<T, TS>(ArrayView<T> x, ArrayView<T> mask, ArrayView<T> y, MaskedRowArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(LaunchMath.MaxGroupSize);
        Row<T, GroupRows<T>>(x, mask, y, Grid.IdxX, p, Group.IdxX, Group.DimX, scratch);
    }

    [KernelEntry]
    public static void ForwardPerThread<T, TS>(Index1D row, ArrayView<T> x, ArrayView<T> mask, ArrayView<T> y, MaskedRowArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        Row<T, ThreadRows<T>>(x, mask, y, row, p, 0, 1, default);
    }

    // Row `row`; this lane handles k = lane, lane + stride, … (y holds the masked logits between passes).
    private static void Row<T, TR>(ArrayView<T> x, ArrayView<T> mask, ArrayView<T> y, int row, MaskedRowArgs p, int lane, int stride, ArrayView<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TR : struct, IRowReducer<T>
    {
        int n = p.N, start = row * n;
        int maskStart = p.HasMask != 0 ? p.Mask.At(row, p.Lead) : 0;
        T max = T.NegativeInfinity;
        for (int k = lane; k < n; k += stride)
        {
            T s = p.HasMask != 0 ? x[start + k] + mask[maskStart + k * p.Step] : x[start + k];
            y[start + k] = s;
            max = T.Max(max, s);
        }
        max = TR.Max(scratch, max);
        if (T.IsNegativeInfinity(max))
        {
            for (int k = lane; k < n; k += stride) y[start + k] = T.Zero;
            return;
        }
        T sum = T.Zero;
        for (int k = lane; k < n; k += stride)
        {
            T e = T.Exp(y[start + k] - max);
            y[start + k] = e;
            sum += e;
        }
        sum = TR.Sum(scratch, sum);
        T inv = T.One / sum;
        for (int k = lane; k < n; k += stride) y[start + k] *= inv;
    }
}
