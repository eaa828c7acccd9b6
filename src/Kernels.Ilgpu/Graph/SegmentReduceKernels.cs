namespace Hep.Kernels.Ilgpu;

/// <summary>Row scatter sizes: source (E, F), y (V, F); Mean/HasCounts select the segment-mean variants.</summary>
internal struct SegmentArgs
{
    public int E, F, V, Mean;
}

/// <summary>
/// Row scatter-add and segment mean for message passing, and their gather adjoint.
/// Shapes: source (E, F), index (E) in [0, V), y (V, F), counts (V).
/// <see cref="SumSegments"/> — deterministic (sorted / CSR): <see cref="CsrKernels"/> lists each
/// node's edges in edge order; one thread per (v, f) sums its column in that order (bitwise
/// reproducible, and the same order as the CPU backend's sorted variant); empty segments give 0.
/// <see cref="AtomicScatter"/> — unordered: one thread per (e, f) atomically adds into y (zeroed
/// first), so float sums of a node may come out in any order (last-bit differences run to run);
/// <see cref="DivideByCounts"/> finishes the unordered mean. <see cref="WriteCounts"/> converts the
/// integer segment sizes, <see cref="CountsFromOffsets"/> those of a prebuilt plan (the planned
/// variant runs <see cref="SumSegments"/> on the plan's CSR instead of building one per call). <see cref="Gather"/>: gradSource[e, f] = gradY[index[e], f] (/ counts),
/// one thread per (e, f), pure. Out-of-range indices are skipped and reported in error[0..1].
/// </summary>
internal static class SegmentReduceKernels
{
    [KernelEntry]
    public static void SumSegments<T, TS>(Index1D e, ArrayView<T> source, ArrayView<int> offsets, ArrayView<int> order, ArrayView<T> y, SegmentArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int v = e / p.F, f = e - v * p.F;
        int first = offsets[v], end = offsets[v + 1];
        T s = T.Zero;
        for (int q = first; q < end; q++) s += source[order[q] * p.F + f];
        if (p.Mean != 0 && end - first > 1) s /= TS.FromInt(end - first);
        y[e] = s;
    }

    [KernelEntry]
    public static void AtomicScatter<T, TS>(Index1D e, ArrayView<T> source, ArrayView<int> index, ArrayView<T> y, ArrayView<int> error, SegmentArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int edge = e / p.F, f = e - edge * p.F;
        int v = index[edge];
        if (!InRange(v, p.V, error)) return;
        TS.AtomicAdd(ref y[v * p.F + f], source[e]);
    }

    [KernelEntry]
    public static void DivideByCounts<T, TS>(Index1D e, ArrayView<T> y, ArrayView<int> counts, SegmentArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int c = counts[e / p.F];
        if (c > 1) y[e] /= TS.FromInt(c);
    }

    [KernelEntry]
    public static void WriteCounts<T, TS>(Index1D v, ArrayView<int> counts, ArrayView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        result[v] = TS.FromInt(counts[v]);
    }

    // Segment sizes of a plan: result[v] = offsets[v + 1] − offsets[v] (one thread per node).
    [KernelEntry]
    public static void CountsFromOffsets<T, TS>(Index1D v, ArrayView<int> offsets, ArrayView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        result[v] = TS.FromInt(offsets[v + 1] - offsets[v]);
    }

    [KernelEntry]
    public static void Gather<T, TS>(Index1D e, ArrayView<T> gradY, ArrayView<int> index, ArrayView<T> counts, ArrayView<T> gradSource,
        ArrayView<int> error, SegmentArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int edge = e / p.F, f = e - edge * p.F;
        int v = index[edge];
        if (!InRange(v, p.V, error))
        {
            gradSource[e] = T.Zero;
            return;
        }
        T g = gradY[v * p.F + f];
        gradSource[e] = p.Mean != 0 ? g / counts[v] : g;
    }

    private static bool InRange(int v, int limit, ArrayView<int> error)
    {
        if ((uint)v < (uint)limit) return true;
        Atomic.Exchange(ref error[1], v);
        Atomic.Exchange(ref error[0], 1);
        return false;
    }
}
