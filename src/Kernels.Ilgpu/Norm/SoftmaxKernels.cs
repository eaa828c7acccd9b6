namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Row softmax / log-softmax over the last axis of contiguous (rows, n) tensors, forward and backward.
/// Thread mapping: one group per row; threads stride the row and combine through shared-memory
/// trees (<see cref="GroupReduce"/>). Grid: rows groups.
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
        int t = Group.IdxX, g = Group.DimX, start = Grid.IdxX * n;
        T max = T.NegativeInfinity;
        for (int k = t; k < n; k += g) max = T.Max(max, x[start + k]);
        max = GroupReduce.Max(scratch, max);
        if (T.IsNegativeInfinity(max))
        {
            for (int k = t; k < n; k += g) y[start + k] = log != 0 ? T.NegativeInfinity : T.Zero;
            return;
        }
        T sum = T.Zero;
        for (int k = t; k < n; k += g) sum += T.Exp(x[start + k] - max);
        sum = GroupReduce.Sum(scratch, sum);
        if (log != 0)
        {
            T logSum = T.Log(sum);
            for (int k = t; k < n; k += g) y[start + k] = x[start + k] - max - logSum;
        }
        else
        {
            T inv = T.One / sum;
            for (int k = t; k < n; k += g) y[start + k] = T.Exp(x[start + k] - max) * inv;
        }
    }

    [KernelEntry]
    public static void Backward<T, TS>(ArrayView<T> y, ArrayView<T> gradY, ArrayView<T> gradX, int n, int log)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(LaunchMath.MaxGroupSize);
        int t = Group.IdxX, g = Group.DimX, start = Grid.IdxX * n;
        T partial = T.Zero;
        for (int k = t; k < n; k += g) partial += log != 0 ? gradY[start + k] : gradY[start + k] * y[start + k];
        T total = GroupReduce.Sum(scratch, partial);
        for (int k = t; k < n; k += g)
        {
            T gy = gradY[start + k], yv = y[start + k];
            gradX[start + k] = log != 0 ? T.Exp(yv) * -total + gy : (gy - total) * yv;
        }
    }
}
