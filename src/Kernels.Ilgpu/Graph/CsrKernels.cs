namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Segment layout of an index: element e (of E) belongs to segment
/// key(e) = (e / SegmentLength)·SegmentNodes + index[e], with index[e] in [0, Limit) and V segments.
/// Scatter-add: SegmentLength = E, SegmentNodes = 0, Limit = V (key = index[e]).
/// Neighbour gathers: SegmentLength = N·K, SegmentNodes = N, Limit = N (key = b·N + index[b, n, k], V = B·N).
/// </summary>
internal struct CsrArgs
{
    public int E, SegmentLength, SegmentNodes, Limit, V;
}

/// <summary>
/// Builds the CSR (sorted) form of an Int32 index on the device, for the deterministic segment
/// reductions: counts (V) → offsets (V + 1) → order (E), the element ids of each segment in
/// increasing order. Steps: <see cref="Count"/> (one thread per element, integer atomics: exact),
/// <see cref="ExclusiveScan"/> (one group walks the V counts in chunks of its size with a
/// shared-memory Hillis–Steele scan and a running carry), <see cref="Fill"/> (one thread per element
/// claims a slot with an atomic cursor: arbitrary order within a segment), <see cref="SortSegments"/>
/// (one thread per segment, insertion sort of its ids). The sort makes the order canonical, so every
/// reduction over the result is deterministic run to run. Out-of-range indices are skipped and
/// reported in error[0..1] (flag, value) for the host to throw.
/// </summary>
internal static class CsrKernels
{
    [KernelEntry]
    public static void Count(Index1D e, ArrayView<int> index, ArrayView<int> counts, ArrayView<int> error, CsrArgs p)
    {
        int key = Key(e, index, error, p);
        if (key >= 0) Atomic.Add(ref counts[key], 1);
    }

    // offsets[v] = Σ_{u < v} counts[u] for v ≤ V; cursor[v] = offsets[v]. Launch with one group.
    [KernelEntry]
    public static void ExclusiveScan(ArrayView<int> counts, ArrayView<int> offsets, ArrayView<int> cursor, int n)
    {
        var scratch = SharedMemory.Allocate1D<int>(LaunchMath.MaxGroupSize);
        int t = Group.IdxX, g = Group.DimX, carry = 0;
        for (int start = 0; start < n; start += g)
        {
            int i = start + t;
            int value = i < n ? counts[i] : 0;
            scratch[t] = value;
            Group.Barrier();
            for (int s = 1; s < g; s <<= 1)
            {
                int add = t >= s ? scratch[t - s] : 0;
                Group.Barrier();
                scratch[t] += add;
                Group.Barrier();
            }
            if (i < n)
            {
                offsets[i] = carry + scratch[t] - value;
                cursor[i] = offsets[i];
            }
            carry += scratch[g - 1];
            Group.Barrier();
        }
        if (t == 0) offsets[n] = carry;
    }

    [KernelEntry]
    public static void Fill(Index1D e, ArrayView<int> index, ArrayView<int> cursor, ArrayView<int> order, ArrayView<int> error, CsrArgs p)
    {
        int key = Key(e, index, error, p);
        if (key < 0) return;
        int slot = Atomic.Add(ref cursor[key], 1);
        order[slot] = e;
    }

    [KernelEntry]
    public static void SortSegments(Index1D v, ArrayView<int> offsets, ArrayView<int> order)
    {
        int first = offsets[v], end = offsets[v + 1];
        for (int a = first + 1; a < end; a++)
        {
            int id = order[a], b = a;
            while (b > first && order[b - 1] > id)
            {
                order[b] = order[b - 1];
                b--;
            }
            order[b] = id;
        }
    }

    private static int Key(int e, ArrayView<int> index, ArrayView<int> error, CsrArgs p)
    {
        int k = index[e];
        if ((uint)k >= (uint)p.Limit)
        {
            Atomic.Exchange(ref error[1], k);
            Atomic.Exchange(ref error[0], 1);
            return -1;
        }
        return e / p.SegmentLength * p.SegmentNodes + k;
    }
}
