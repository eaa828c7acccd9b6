namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Axis reductions of a contiguous x viewed as (outer, n, inner) → y (outer, inner), and ArgMax.
///   ReduceRows    (inner = 1, long rows): one group per row, threads stride the row, then a
///                 shared-memory tree (<see cref="GroupReduce"/>). Grid: outer groups.
///   ReduceColumns (inner &gt; 1 or short rows): one thread per output, summing k = 0..n−1 in order
///                 (coalesced across inner). Same order as the CPU kernel.
///   ArgMax        one thread per output, first maximum wins, NaN beats numbers (CPU semantics).
/// No atomics: deterministic.
/// </summary>
internal static class ReductionKernels
{
    [KernelEntry]
    public static void ReduceRows<T, TS>(ArrayView<T> x, ArrayView<T> y, int n, ReduceOp op)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(LaunchMath.MaxGroupSize);
        int row = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int start = row * n;
        T result;
        if (op == ReduceOp.Max || op == ReduceOp.Min)
        {
            bool max = op == ReduceOp.Max;
            T acc = max ? T.NegativeInfinity : T.PositiveInfinity;
            for (int k = t; k < n; k += g) acc = max ? T.Max(acc, x[start + k]) : T.Min(acc, x[start + k]);
            result = max ? GroupReduce.Max(scratch, acc) : GroupReduce.Min(scratch, acc);
        }
        else
        {
            T acc = T.Zero;
            for (int k = t; k < n; k += g) acc += x[start + k];
            result = GroupReduce.Sum(scratch, acc);
            if (op == ReduceOp.Mean) result *= T.One / TS.FromInt(n > 1 ? n : 1);
        }
        if (t == 0) y[row] = result;
    }

    [KernelEntry]
    public static void ReduceColumns<T, TS>(Index1D j, ArrayView<T> x, ArrayView<T> y, int n, int inner, ReduceOp op)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int o = j / inner, i = j - o * inner;
        int at = o * n * inner + i;
        if (n == 0)
        {
            y[j] = T.Zero;
            return;
        }
        T acc = x[at];
        for (int k = 1; k < n; k++)
        {
            T v = x[at + k * inner];
            if (op == ReduceOp.Max) acc = T.Max(acc, v);
            else if (op == ReduceOp.Min) acc = T.Min(acc, v);
            else acc += v;
        }
        if (op == ReduceOp.Mean) acc *= T.One / TS.FromInt(n);
        y[j] = acc;
    }

    [KernelEntry]
    public static void ArgMax<T, TS>(Index1D j, ArrayView<T> x, ArrayView<int> indices, int n, int inner)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int o = j / inner, i = j - o * inner;
        int at = o * n * inner + i;
        int best = 0;
        T bestValue = x[at];
        for (int k = 1; k < n; k++)
        {
            T v = x[at + k * inner];
            if (v > bestValue || (T.IsNaN(v) && !T.IsNaN(bestValue)))
            {
                best = k;
                bestValue = v;
            }
        }
        indices[j] = best;
    }
}
