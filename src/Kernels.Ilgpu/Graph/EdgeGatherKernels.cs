namespace Hep.Kernels.Ilgpu;

/// <summary>Sizes of the EdgeConv gathers: nodes (B, C, N), index (B, N, K).</summary>
internal struct EdgeArgs
{
    public int B, C, N, K;
}

/// <summary>
/// EdgeConv neighbour gathers (channel-first like weaver's get_graph_feature) and their adjoints.
/// Shapes: x, self, neighbor (B, C, N); index (B, N, K) in [0, N); edge tensors (B, C', N, K);
/// j = index[b, n, k] throughout.
///   GatherNeighbors:  y[b,c,n,k] = x[b,c,j]
///   EdgeFeatures:     y[b,c,n,k] = x[b,c,n], y[b,C+c,n,k] = x[b,c,j] − x[b,c,n]
///   NeighborCombine:  y[b,o,n,k] = self[b,o,n] + neighbor[b,o,j]
/// Forward thread mapping: one thread per (b, c, n, k) output element (coalesced writes; the index
/// row of a jet is shared by its C channels through the cache). Out-of-range j writes 0 and is
/// reported in error[0..1] for the host to throw.
/// Backward thread mapping: one thread per (b, c, n) node element. The scatter-add adjoint is a
/// gather over the inverse index: <see cref="CsrKernels"/> lists, for each (b, j), the positions
/// b·N·K + (n·K + k) that point at j in increasing order, and each thread sums its list in that
/// order (no atomics): deterministic, and the same order as the CPU backend's scatter.
///   GatherNeighborsBackward:  gx[b,c,j] = Σ_{(n,k) → j} g[b,c,n,k]
///   EdgeFeaturesBackward:     gx[b,c,n] = Σ_k g₁[n,k] − Σ_k g₂[n,k] + Σ_{(n',k) → n} g₂[n',k]
///   NeighborCombineBackward:  gs[b,o,n] = Σ_k g[n,k];  gnb[b,o,j] = Σ_{(n,k) → j} g[n,k]
/// </summary>
internal static class EdgeGatherKernels
{
    [KernelEntry]
    public static void GatherNeighbors<T, TS>(Index1D e, ArrayView<T> x, ArrayView<int> index, ArrayView<T> y, ArrayView<int> error, EdgeArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int nk = p.N * p.K, row = e / nk, m = e - row * nk, b = row / p.C;
        int j = index[b * nk + m];
        y[e] = InRange(j, p.N, error) ? x[row * p.N + j] : T.Zero;
    }

    [KernelEntry]
    public static void EdgeFeatures<T, TS>(Index1D e, ArrayView<T> x, ArrayView<int> index, ArrayView<T> y, ArrayView<int> error, EdgeArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int nk = p.N * p.K, row = e / nk, m = e - row * nk, b = row / p.C, c = row - b * p.C, n = m / p.K;
        int j = index[b * nk + m];
        T xi = x[row * p.N + n];
        T xj = InRange(j, p.N, error) ? x[row * p.N + j] : xi;
        y[(b * 2 * p.C + c) * nk + m] = xi;
        y[(b * 2 * p.C + p.C + c) * nk + m] = xj - xi;
    }

    [KernelEntry]
    public static void NeighborCombine<T, TS>(Index1D e, ArrayView<T> self, ArrayView<T> neighbor, ArrayView<int> index, ArrayView<T> y,
        ArrayView<int> error, EdgeArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int nk = p.N * p.K, row = e / nk, m = e - row * nk, b = row / p.C, n = m / p.K;
        int j = index[b * nk + m];
        T s = self[row * p.N + n];
        y[e] = InRange(j, p.N, error) ? s + neighbor[row * p.N + j] : s;
    }

    [KernelEntry]
    public static void GatherNeighborsBackward<T, TS>(Index1D e, ArrayView<T> gradY, ArrayView<int> offsets, ArrayView<int> order, ArrayView<T> gradX, EdgeArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int nk = p.N * p.K, row = e / p.N, j = e - row * p.N, b = row / p.C;
        gradX[e] = SegmentSum(gradY, row * nk - b * nk, offsets, order, b * p.N + j, T.Zero);
    }

    [KernelEntry]
    public static void EdgeFeaturesBackward<T, TS>(Index1D e, ArrayView<T> gradY, ArrayView<int> offsets, ArrayView<int> order, ArrayView<T> gradX, EdgeArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int nk = p.N * p.K, row = e / p.N, n = e - row * p.N, b = row / p.C, c = row - b * p.C;
        int g1 = (b * 2 * p.C + c) * nk, g2 = (b * 2 * p.C + p.C + c) * nk;
        T s1 = T.Zero, s2 = T.Zero;
        for (int k = 0; k < p.K; k++)
        {
            s1 += gradY[g1 + n * p.K + k];
            s2 += gradY[g2 + n * p.K + k];
        }
        gradX[e] = SegmentSum(gradY, g2 - b * nk, offsets, order, b * p.N + n, s1 - s2);
    }

    [KernelEntry]
    public static void NeighborCombineBackward<T, TS>(Index1D e, ArrayView<T> gradY, ArrayView<int> offsets, ArrayView<int> order,
        ArrayView<T> gradSelf, ArrayView<T> gradNeighbor, EdgeArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int nk = p.N * p.K, row = e / p.N, n = e - row * p.N, b = row / p.C;
        T s = T.Zero;
        for (int k = 0; k < p.K; k++) s += gradY[row * nk + n * p.K + k];
        gradSelf[e] = s;
        gradNeighbor[e] = SegmentSum(gradY, row * nk - b * nk, offsets, order, b * p.N + n, T.Zero);
    }

    // start + Σ gradY[shift + order[s]] over the segment's positions (order holds b·N·K + m; shift maps it into the (b, c) row).
    private static T SegmentSum<T>(ArrayView<T> gradY, int shift, ArrayView<int> offsets, ArrayView<int> order, int segment, T start)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = start;
        int end = offsets[segment + 1];
        for (int q = offsets[segment]; q < end; q++) s += gradY[shift + order[q]];
        return s;
    }

    private static bool InRange(int j, int limit, ArrayView<int> error)
    {
        if ((uint)j < (uint)limit) return true;
        Atomic.Exchange(ref error[1], j);
        Atomic.Exchange(ref error[0], 1);
        return false;
    }
}
