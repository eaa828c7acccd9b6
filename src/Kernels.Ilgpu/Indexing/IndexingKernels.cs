namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Iteration (Outer, M, Inner) of the thread-mapped tensor and the axis length of the other tensor,
/// plus the valid index range.
/// </summary>
internal struct AxisArgs
{
    public int M, Inner, OtherN;
}

/// <summary>
/// Gathers along one axis and their scatter-add adjoints; data contiguous, indices Int32.
/// Thread mapping: one thread per element of the (outer, m, inner) tensor the op walks (y for the
/// gathers, the source for the scatters). The element's partner in the other tensor is
/// (o·OtherN + k)·Inner + i with k the index value (index[j] for IndexSelect/IndexAdd, index[e] for
/// Gather/ScatterAdd). Out-of-range k is skipped (gathers write 0) and reported in error[0..1]
/// (flag, offending value) for the host to throw.
/// Determinism: gathers are pure. Scatter-adds use atomic adds, so with duplicate indices the float
/// summation order (hence the last bits) may vary run to run; unique indices are exact.
/// </summary>
internal static class IndexingKernels
{
    // y[o, j, i] = x[o, index[j], i]
    [KernelEntry]
    public static void IndexSelect<T>(Index1D e, ArrayView<T> x, ArrayView<int> index, ArrayView<T> y, ArrayView<int> error, AxisArgs p)
        where T : unmanaged
    {
        Split(e, p, out int o, out int j, out int i);
        int k = index[j];
        if (!InRange(k, p.OtherN, error))
        {
            y[e] = default;
            return;
        }
        y[e] = x[(o * p.OtherN + k) * p.Inner + i];
    }

    // y[o, index[j], i] += source[o, j, i]
    [KernelEntry]
    public static void IndexAdd<T, TS>(Index1D e, ArrayView<T> source, ArrayView<int> index, ArrayView<T> y, ArrayView<int> error, AxisArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        Split(e, p, out int o, out int j, out int i);
        int k = index[j];
        if (!InRange(k, p.OtherN, error)) return;
        TS.AtomicAdd(ref y[(o * p.OtherN + k) * p.Inner + i], source[e]);
    }

    // y[o, j, i] = x[o, index[o, j, i], i]
    [KernelEntry]
    public static void Gather<T>(Index1D e, ArrayView<T> x, ArrayView<int> index, ArrayView<T> y, ArrayView<int> error, AxisArgs p)
        where T : unmanaged
    {
        Split(e, p, out int o, out _, out int i);
        int k = index[e];
        if (!InRange(k, p.OtherN, error))
        {
            y[e] = default;
            return;
        }
        y[e] = x[(o * p.OtherN + k) * p.Inner + i];
    }

    // y[o, index[o, j, i], i] += source[o, j, i]
    [KernelEntry]
    public static void ScatterAdd<T, TS>(Index1D e, ArrayView<T> source, ArrayView<int> index, ArrayView<T> y, ArrayView<int> error, AxisArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        Split(e, p, out int o, out _, out int i);
        int k = index[e];
        if (!InRange(k, p.OtherN, error)) return;
        TS.AtomicAdd(ref y[(o * p.OtherN + k) * p.Inner + i], source[e]);
    }

    private static void Split(int e, AxisArgs p, out int o, out int j, out int i)
    {
        int row = e / p.Inner;
        i = e - row * p.Inner;
        o = row / p.M;
        j = row - o * p.M;
    }

    private static bool InRange(int k, int limit, ArrayView<int> error)
    {
        if ((uint)k < (uint)limit) return true;
        Atomic.Exchange(ref error[1], k);
        Atomic.Exchange(ref error[0], 1);
        return false;
    }
}
