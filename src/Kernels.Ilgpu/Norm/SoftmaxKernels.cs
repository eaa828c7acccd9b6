namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Row softmax / log-softmax over the last axis of contiguous (rows, n) tensors, forward and backward.
/// Thread mapping: long rows get one group per row (threads stride the row and combine through
/// shared-memory trees, <see cref="GroupReduce"/>; grid = rows groups); short rows (n &lt; 32) get
/// one thread per row (…PerThread kernels). Both run the same row body.
/// Forward: m = max, y = e^{x−m}/Σ (log: x − m − log Σ). A row that is all −∞ (fully masked)
/// gives zeros (log: −∞), as on the CPU. Backward: softmax gx = y ⊙ (g − Σ g⊙y);
/// log-softmax gx = g − eʸ·Σ g. Fixed reduction order: deterministic.
/// </summary>
internal static class SoftmaxKernels
{
    [KernelEntry]
    public static void Forward<T, TS>(ArrayView<T> x, ArrayView<T> y, int n, int log)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(LaunchMath.MaxGroupSize);
        ForwardRow<T, GroupRows<T>>(x, y, Grid.IdxX * n, n, log, Group.IdxX, Group.DimX, scratch);
    }

    [KernelEntry]
    public static void ForwardPerThread<T, TS>(Index1D row, ArrayView<T> x, ArrayView<T> y, int n, int log)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        ForwardRow<T, ThreadRows<T>>(x, y, row * n, n, log, 0, 1, default);
    }

    [KernelEntry]
    public static void Backward<T, TS>(ArrayView<T> y, ArrayView<T> gradY, ArrayView<T> gradX, int n, int log)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(LaunchMath.MaxGroupSize);
        BackwardRow<T, GroupRows<T>>(y, gradY, gradX, Grid.IdxX * n, n, log, Group.IdxX, Group.DimX, scratch);
    }

    [KernelEntry]
    public static void BackwardPerThread<T, TS>(Index1D row, ArrayView<T> y, ArrayView<T> gradY, ArrayView<T> gradX, int n, int log)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        BackwardRow<T, ThreadRows<T>>(y, gradY, gradX, row * n, n, log, 0, 1, default);
    }

    // One row [start, start + n); this lane handles k = lane, lane + stride, …
    private static void ForwardRow<T, TR>(ArrayView<T> x, ArrayView<T> y, int start, int n, int log, int lane, int stride, ArrayView<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TR : struct, IRowReducer<T>
    {
        T max = T.NegativeInfinity;
        for (int k = lane; k < n; k += stride) max = T.Max(max, x[start + k]);
        max = TR.Max(scratch, max);
        if (T.IsNegativeInfinity(max))
        {
            for (int k = lane; k < n; k += stride) y[start + k] = log != 0 ? T.NegativeInfinity : T.Zero;
            return;
        }
        T sum = T.Zero;
        for (int k = lane; k < n; k += stride) sum += T.Exp(x[start + k] - max);
        sum = TR.Sum(scratch, sum);
        if (log != 0)
        {
            T logSum = T.Log(sum);
            for (int k = lane; k < n; k += stride) y[start + k] = x[start + k] - max - logSum;
        }
        else
        {
            T inv = T.One / sum;
            for (int k = lane; k < n; k += stride) y[start + k] = T.Exp(x[start + k] - max) * inv;
        }
    }

    private static void BackwardRow<T, TR>(ArrayView<T> y, ArrayView<T> gradY, ArrayView<T> gradX, int start, int n, int log, int lane, int stride,
        ArrayView<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TR : struct, IRowReducer<T>
    {
        T partial = T.Zero;
        for (int k = lane; k < n; k += stride) partial += log != 0 ? gradY[start + k] : gradY[start + k] * y[start + k];
        T total = TR.Sum(scratch, partial);
        for (int k = lane; k < n; k += stride)
        {
            T gy = gradY[start + k], yv = y[start + k];
            gradX[start + k] = log != 0 ? T.Exp(yv) * -total + gy : (gy - total) * yv;
        }
    }
}
