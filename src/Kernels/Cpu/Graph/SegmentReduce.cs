using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Engine;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>
/// Row scatter-add and segment mean for message passing, and their gather adjoint.
/// Shapes: source (E, F), index (E) with values in [0, V), y (V, F), counts (V). Every output element
/// is written (outputs may be uninitialised).
/// Deterministic (sorted / CSR): a stable counting sort of the edge ids by target
/// (<see cref="SegmentPlanBuilder"/>, parallel, O(E + V)) gives each node its edges in edge order; the
/// planned variant (<see cref="ReducePlanned"/>) takes that CSR from a prebuilt
/// <see cref="SegmentPlan"/> and skips the sort. Nodes are then cut into ranges of equal edges + nodes
/// (8 per core, taken dynamically, so a core busy with another process delays the call by one small
/// range instead of half the work) and each output row is summed in registers (4 SIMD vectors of
/// columns at a time) in that fixed order, with the source rows of the edges 64 positions ahead
/// prefetched into L2 (they lie at random places in the source). Source rows of whole 4-vector blocks on
/// 64-byte boundaries take one call per node range with the mean divided in registers (rows of whole
/// 4-vector blocks that all start m elements past a boundary likewise, from aligned loads of the lines
/// they span, cut apart with two-source permutes), and y is then
/// streamed out with non-temporal stores once the source is at least the size of the last-level cache
/// (<see cref="LastLevelCache"/>, read from the machine; the sweep evicts y before
/// the call returns, so writing it through the cache only adds a read for ownership). Bitwise
/// reproducible, independent of the core count.
/// Unordered (deterministic = false): no sort; the edges are cut into one contiguous chunk per core, so
/// the source is read sequentially, and each core adds its rows into a private V×F partial buffer that
/// it zeroes itself (core 0 straight into y), prefetching the target rows 16 edges ahead; the partials
/// are then summed into y row-parallel. No atomics; the float sums depend on where the chunks are cut
/// (i.e. on the core count), so results can differ from the sorted order in the last bits.
/// Backward (SegmentGather): gradSource[e] = gradY[index[e]] (/ counts), edges cut into 8 ranges per
/// core taken dynamically; for outputs past <see cref="StreamingStores.ThresholdBytes"/> with AVX-512
/// and F a multiple of the vector width, the rows are streamed out with aligned non-temporal stores
/// (each vector re-aligned to the destination's 64-byte boundaries with a two-source permute), so the
/// large output is not read first; an output on a 64-byte boundary with rows of whole 4-vector blocks
/// is copied block by block with each index range-checked as its row is read (no separate pass over
/// the index).
/// </summary>
internal static unsafe class SegmentReduce<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int MinEdgesPerWorker = 4096;
    private const int PrefetchRows = 16;
    // Source rows prefetched this many positions ahead by the sorted sums. The rows come from DRAM at
    // random; with the machine shared, their latency stretches, and in interleaved fwd + bwd runs 64 gave
    // medians 0–1.2 ms lower than 32 (3 runs, load 5–6.6; 96 no better).
    private const int SortedPrefetchRows = 64;

    // gradY rows prefetched this many rows ahead by the gather's aligned block path (after a forward
    // sweep they are first read from DRAM).
    private const int GatherPrefetchRows = 32;

    // The order (sums) / index (gather) entries this many positions past the row prefetch are prefetched
    // (a prefetch never faults, so past the array's end is harmless): the row prefetch's address is
    // loaded from them, and when they are not cached (a plan's order after a 51 MB sweep) every line of
    // them otherwise stalls the row prefetches behind a DRAM miss. Interleaved calls, E = 200k, F = 64:
    // planned forward median 2.16 → 1.56 ms, fwd + bwd 4.43 → 3.85 ms.
    private const int OrderPrefetchAhead = 256;

    // Source size from which the sorted sums stream y out: the size of the last-level cache (read from the
    // machine, LastLevelCache; 32 MB where it cannot be read). A source at least that large evicts y's lines
    // before the call returns.
    internal static readonly long SweepBytes = LastLevelCache.Bytes;

    // Work items per core for the sorted sums and the gather, taken dynamically: on a shared machine a
    // core that is busy elsewhere then delays the call by one small item instead of half the work.
    private const int ChunksPerCore = 8;

    public static void Reduce(Tensor source, Tensor index, Tensor y, Tensor? counts, bool deterministic, string op)
    {
        var src = CpuTensor.Array<T>(source, op);
        var ys = CpuTensor.Array<T>(y, op);
        var idx = CpuTensor.Span<int>(index, op);
        int e = source.Shape[0], f = source.Shape[1], v = y.Shape[0];
        if (!IndexRange.AllBelow(idx, v)) IndexRange.Throw(idx, v, op);
        int so = source.Offset, yo = y.Offset, io = index.Offset;
        var idxArr = CpuTensor.Array<int>(index, op);
        if (deterministic) Sorted(src, so, idxArr, io, e, f, ys, yo, v, counts, op);
        else Unordered(src, so, idxArr, io, e, f, ys, yo, v, counts, op);
    }

    public static void Gather(Tensor gradY, Tensor index, Tensor? counts, Tensor gradSource)
    {
        const string op = "SegmentGather";
        var gy = CpuTensor.Array<T>(gradY, op);
        var gs = CpuTensor.Array<T>(gradSource, op);
        var idx = CpuTensor.Span<int>(index, op);
        int e = gradSource.Shape[0], f = gradSource.Shape[1], v = gradY.Shape[0];
        var idxArr = CpuTensor.Array<int>(index, op);
        T[]? cs = counts is null ? null : CpuTensor.Array<T>(counts, op);
        int go = gradY.Offset, so = gradSource.Offset, io = index.Offset, co = counts?.Offset ?? 0;
        bool stream = f > 0 && f % Vector512<T>.Count == 0 && StreamingStores.Pays<T>((long)e * f);
        // Whole 4-vector rows into a 64-byte-aligned output: every row starts on a line, and the index
        // is range-checked row by row inside the copy instead of in a separate pass.
        bool blocks;
        fixed (T* pgs = gs)
        {
            blocks = stream && f % (4 * Vector512<T>.Count) == 0 && ((nuint)(pgs + so) & 63) == 0;
        }
        if (!blocks && !IndexRange.AllBelow(idx, v)) IndexRange.Throw(idx, v, op);
        int chunks = (int)Math.Max(1, Math.Min(Math.Min(CpuParallel.Threads * ChunksPerCore, e), (long)e * f / (1 << 15)));
        int bad = 0;
        Parallel.For(0, chunks, c =>
        {
            int s = (int)((long)e * c / chunks), end = (int)((long)e * (c + 1) / chunks);
            fixed (T* pgy = gy, pgs = gs, pcs = cs)
            fixed (int* pidx = idxArr)
            {
                var rows = new GatherRows(pgy + go, pidx + io, pcs is null ? null : pcs + co, f);
                if (blocks)
                {
                    if (!rows.StreamBlocks(pgs + so + (long)s * f, s, end, v)) Volatile.Write(ref bad, 1);
                }
                else if (stream) rows.Stream(pgs + so + (long)s * f, s, end);
                else rows.Copy(pgs + so + (long)s * f, s, end);
            }
        });
        if (bad != 0) IndexRange.Throw(idx, v, op);
    }

    // Rows of the gather: row i of the output is gradY[index[i]] (/ counts[index[i]]).
    private readonly struct GatherRows(T* gradY, int* index, T* counts, int f)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector512<T> Load(T* row, Vector512<T> divisor, int col) =>
            counts is null ? Vector512.Load(row + col) : Vector512.Load(row + col) / divisor;

        private Vector512<T> Divisor(int node) => counts is null ? Vector512<T>.One : Vector512.Create(counts[node]);

        // Plain stores (outputs that stay in cache, or widths that are not whole vectors).
        public void Copy(T* dst, int s, int end)
        {
            int lanes = Vector512<T>.Count;
            for (int i = s; i < end; i++, dst += f)
            {
                int node = index[i];
                T* row = gradY + (long)node * f;
                var divisor = Divisor(node);
                int c = 0;
                for (; c + lanes <= f; c += lanes) Load(row, divisor, c).Store(dst + c);
                if (counts is null) for (; c < f; c++) dst[c] = row[c];
                else for (; c < f; c++) dst[c] = row[c] / counts[node];
            }
        }

        // Non-temporal stores of the rows s..end into dst (contiguous, any element alignment); f is a
        // multiple of the vector width. Every store is a whole 64-byte line: the vectors go out in stream
        // order through a StreamingLineWriter (the line before vector j's position is the previous vector's
        // last lanes joined with vector j's first ones; the stream's partial first and last lines are
        // masked stores).
        public void Stream(T* dst, int s, int end)
        {
            int lanes = Vector512<T>.Count;
            var w = StreamingLineWriter<T>.For(dst);
            if (w.Lead == 0)
            {
                for (int i = s; i < end; i++, dst += f)
                {
                    T* row = Row(i, end, out var divisor);
                    for (int c = 0; c < f; c += lanes) Load(row, divisor, c).StoreAlignedNonTemporal(dst + c);
                }
                Sse.StoreFence();
                return;
            }
            long n = (long)(end - s) * f;
            T* first = dst;
            Vector512<T> carry = default;
            for (int i = s; i < end; i++, dst += f)
            {
                T* row = Row(i, end, out var divisor);
                for (int c = 0; c < f; c += lanes)
                {
                    var cur = Load(row, divisor, c);
                    if (i == s && c == 0) w.First(dst, cur);
                    else w.Put(dst + c, carry, cur);
                    carry = cur;
                }
            }
            w.Finish(first + n, carry);
            Sse.StoreFence();
        }

        // Stream for rows of whole 4-vector blocks into a 64-byte-aligned dst (every row starts on a line):
        // the source rows GatherPrefetchRows edges ahead prefetched (PrefetchRow: gradY itself need not be
        // aligned), each index checked against
        // v before its row is read; false (and the rest of the range left unwritten) at the first index
        // outside [0, v).
        public bool StreamBlocks(T* dst, int s, int end, int v)
        {
            int lanes = Vector512<T>.Count;
            bool ok = true;
            for (int i = s; i < end; i++, dst += f)
            {
                if (i + GatherPrefetchRows < end)
                {
                    Sse.Prefetch0(index + i + GatherPrefetchRows + OrderPrefetchAhead);
                    // A prefetch never faults, so an index that fails its check below is harmless here.
                    PrefetchRow(gradY + (long)index[i + GatherPrefetchRows] * f, f);
                }
                int node = index[i];
                if ((uint)node >= (uint)v)
                {
                    ok = false;
                    break;
                }
                T* row = gradY + (long)node * f;
                var divisor = Divisor(node);
                for (int c = 0; c < f; c += 4 * lanes)
                {
                    Load(row, divisor, c).StoreAlignedNonTemporal(dst + c);
                    Load(row, divisor, c + lanes).StoreAlignedNonTemporal(dst + c + lanes);
                    Load(row, divisor, c + 2 * lanes).StoreAlignedNonTemporal(dst + c + 2 * lanes);
                    Load(row, divisor, c + 3 * lanes).StoreAlignedNonTemporal(dst + c + 3 * lanes);
                }
            }
            Sse.StoreFence();
            return ok;
        }

        // Row i's source, prefetching the row PrefetchRows edges ahead (gradY rows are random reads).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private T* Row(int i, int end, out Vector512<T> divisor)
        {
            if (i + PrefetchRows < end) PrefetchRow(gradY + (long)index[i + PrefetchRows] * f, f);
            int node = index[i];
            divisor = Divisor(node);
            return gradY + (long)node * f;
        }

    }

    // Prefetches the cache lines one row spans (at most its first 512 bytes; a 256-byte row not
    // aligned to 64 bytes spans 5 lines, and leaving the fifth to a demand miss tripled the sorted
    // sum's time).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRow(T* row, int f)
    {
        nuint line = (nuint)row & ~(nuint)63, last = (nuint)row + (nuint)(Math.Min(f * sizeof(T), 512) - 1);
        for (; line <= last; line += 64) Sse.Prefetch0((void*)line);
    }

    /// <summary>Deterministic reduction over a prebuilt plan (offsets (V + 1), order (E)); counts given → mean.</summary>
    public static void ReducePlanned(Tensor source, Tensor offsets, Tensor order, Tensor y, Tensor? counts, string op) =>
        ReducePlanned(source, offsets, order, y, counts, op, SweepBytes);

    /// <summary><see cref="ReducePlanned(Tensor, Tensor, Tensor, Tensor, Tensor?, string)"/> with y streamed from a source of <paramref name="sweepBytes"/> (tests take both store paths on any machine).</summary>
    internal static void ReducePlanned(Tensor source, Tensor offsets, Tensor order, Tensor y, Tensor? counts, string op, long sweepBytes)
    {
        var src = CpuTensor.Array<T>(source, op);
        var ys = CpuTensor.Array<T>(y, op);
        var off = CpuTensor.Array<int>(offsets, op);
        var ord = CpuTensor.Array<int>(order, op);
        int e = source.Shape[0], f = source.Shape[1], v = y.Shape[0];
        fixed (T* ps = src, py = ys)
        fixed (int* po = off, pq = ord)
        {
            SumSegments(ps + source.Offset, e, f, po + offsets.Offset, pq + order.Offset, py + y.Offset, v, counts is not null, sweepBytes);
        }
        if (counts is not null) WriteCounts(off, offsets.Offset, counts, v, op);
    }

    // Prefetches the cache lines of one row (at most the first 8) into L2 only: the sorted sums read
    // source rows at random, and L2's deeper miss queue keeps about twice as many rows in flight as
    // L1 prefetches did (measured 1.7–2.6 ms against 3.5–3.7 ms for E = 200k, F = 64).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRowL2(T* row, int f)
    {
        nuint line = (nuint)row & ~(nuint)63, last = (nuint)row + (nuint)(Math.Min(f * sizeof(T), 512) - 1);
        for (; line <= last; line += 64) Sse.Prefetch1((void*)line);
    }

    // The sorted sums' prefetch at position q: the source row SortedPrefetchRows positions ahead in order
    // into L2, and the order entries OrderPrefetchAhead past that (the row's address is read from them).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(T* src, int f, int* order, int q)
    {
        Sse.Prefetch0(order + q + SortedPrefetchRows + OrderPrefetchAhead);
        PrefetchRowL2(src + (long)order[q + SortedPrefetchRows] * f, f);
    }

    private static void Sorted(T[] src, int so, int[] idx, int io, int e, int f, T[] ys, int yo, int v, Tensor? counts, string op)
    {
        var offsets = ArrayPool<int>.Shared.Rent(v + 1);
        var order = ArrayPool<int>.Shared.Rent(Math.Max(e, 1));
        try
        {
            fixed (T* ps = src, py = ys)
            fixed (int* pi = idx, po = offsets, pq = order)
            {
                SegmentPlanBuilder.Build(pi + io, e, v, po, pq);
                SumSegments(ps + so, e, f, po, pq, py + yo, v, counts is not null, SweepBytes);
            }
            if (counts is not null) WriteCounts(offsets, 0, counts, v, op);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    private static void WriteCounts(int[] offsets, int oo, Tensor counts, int v, string op)
    {
        var cs = CpuTensor.Span<T>(counts, op);
        for (int n = 0; n < v; n++) cs[n] = T.CreateTruncating(offsets[oo + n + 1] - offsets[oo + n]);
    }

    // y[n] = Σ_{q ∈ [offsets[n], offsets[n + 1])} src[order[q]] (/ size when mean) for every node n. The
    // nodes are cut into ranges balancing edges + nodes (a skewed index would otherwise leave one core
    // with most of the rows), ChunksPerCore per core taken dynamically.
    private static void SumSegments(T* src, int e, int f, int* offsets, int* order, T* y, int v, bool mean, long sweepBytes)
    {
        if (v == 0) return;
        long total = (long)e + v;
        int chunks = (int)Math.Max(1, Math.Min(CpuParallel.Threads * ChunksPerCore, total * f / (1 << 15)));
        nint ps = (nint)src, po = (nint)offsets, pq = (nint)order, py = (nint)y;
        int lanes = Vector512<T>.Count;
        bool vectors = f > 0 && f % lanes == 0 && ((nuint)src & (nuint)(sizeof(T) - 1)) == 0 && Avx512F.IsSupported && Vector512<T>.IsSupported;
        // Rows that are whole vectors but not 64-byte aligned all share one misalignment m (elements):
        // they are summed from aligned loads (SumRowsShifted).
        int m = (int)(((nuint)src & 63) / (nuint)sizeof(T));
        bool blocks = vectors && f % (4 * lanes) == 0, aligned = blocks && m == 0;
        // y is streamed out (no read for ownership) when its rows are 64-byte aligned and the source is
        // at least sweepBytes (the last-level cache): the source sweep evicts y's lines before the call returns anyway.
        bool stream = blocks && ((nuint)y & 63) == 0 && (long)e * f * sizeof(T) >= sweepBytes;
        Parallel.For(0, chunks, c =>
        {
            int* off = (int*)po;
            int s = FirstNode(off, v, total * c / chunks), end = FirstNode(off, v, total * (c + 1) / chunks);
            if (aligned)
            {
                SumNodesAligned((T*)ps, f, off, (int*)pq, s, end, e, (T*)py, mean, stream);
                return;
            }
            if (blocks)
            {
                SumNodesShifted((T*)ps, f, off, (int*)pq, s, end, e, (T*)py, mean, stream, m);
                return;
            }
            for (int n = s; n < end; n++)
            {
                int first = off[n], last = off[n + 1];
                T* dst = (T*)py + (long)n * f;
                if (vectors && m != 0) SumRowsShifted((T*)ps, f, (int*)pq, first, last, e, dst, m);
                else SumRows((T*)ps, f, (int*)pq, first, last, e, dst);
                if (mean && last - first > 1) Divide(dst, f, T.CreateTruncating(last - first));
            }
        });
    }

    // SumRows + the mean's division for the nodes s..end with 64-byte-aligned source rows of whole
    // 4-vector blocks: one call per node range (the per-node work is ~10 rows), the rows SortedPrefetchRows
    // positions ahead prefetched (PrefetchAhead), the mean divided
    // in registers (the same IEEE division as Divide), y stored with non-temporal stores when stream.
    // Every output element is the same sum in the same order as SumRows': bitwise equal.
    private static void SumNodesAligned(T* src, int f, int* off, int* order, int s, int end, int e, T* y, bool mean, bool stream)
    {
        int lanes = Vector512<T>.Count;
        for (int n = s; n < end; n++)
        {
            int first = off[n], last = off[n + 1];
            T* dst = y + (long)n * f;
            var divisor = Vector512.Create(T.CreateTruncating(last - first));
            bool divide = mean && last - first > 1;
            for (int col = 0; col < f; col += 4 * lanes)
            {
                Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int q = first; q < last; q++)
                {
                    if (col == 0 && q + SortedPrefetchRows < e) PrefetchAhead(src, f, order, q);
                    T* row = src + (long)order[q] * f + col;
                    a0 += Vector512.LoadAligned(row);
                    a1 += Vector512.LoadAligned(row + lanes);
                    a2 += Vector512.LoadAligned(row + 2 * lanes);
                    a3 += Vector512.LoadAligned(row + 3 * lanes);
                }
                PutBlock(dst + col, a0, a1, a2, a3, divisor, divide, stream);
            }
        }
        if (stream) Sse.StoreFence();
    }

    // SumNodesAligned for source rows of whole 4-vector blocks misaligned by m elements (all rows share
    // it): per block, the 5 aligned loads covering the lines it spans are summed into 5 accumulators and
    // output vector j is cut from accumulators j and j + 1 (as SumRowsShifted, so every output element is
    // the same sum in the same order as SumRows': bitwise equal), one call per node range, the mean
    // divided in registers (the same IEEE division as Divide), y streamed out when stream (y aligned).
    private static void SumNodesShifted(T* src, int f, int* off, int* order, int s, int end, int e, T* y, bool mean, bool stream, int m)
    {
        int lanes = Vector512<T>.Count;
        var shift = Vector512.Create(m) + Vector512<int>.Indices;
        for (int n = s; n < end; n++)
        {
            int first = off[n], last = off[n + 1];
            T* dst = y + (long)n * f;
            var divisor = Vector512.Create(T.CreateTruncating(last - first));
            bool divide = mean && last - first > 1;
            for (int col = 0; col < f; col += 4 * lanes)
            {
                Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default;
                for (int q = first; q < last; q++)
                {
                    if (col == 0 && q + SortedPrefetchRows < e) PrefetchAhead(src, f, order, q);
                    T* line = src + (long)order[q] * f + col - m;
                    a0 += Vector512.LoadAligned(line);
                    a1 += Vector512.LoadAligned(line + lanes);
                    a2 += Vector512.LoadAligned(line + 2 * lanes);
                    a3 += Vector512.LoadAligned(line + 3 * lanes);
                    a4 += Vector512.LoadAligned(line + 4 * lanes);
                }
                var o0 = Join(a0, a1, shift);
                var o1 = Join(a1, a2, shift);
                var o2 = Join(a2, a3, shift);
                var o3 = Join(a3, a4, shift);
                PutBlock(dst + col, o0, o1, o2, o3, divisor, divide, stream);
            }
        }
        if (stream) Sse.StoreFence();
    }

    // One 4-vector block of a node's sums written to d (on a line): divided by the node's edge count when
    // divide (the same IEEE division as Divide), streamed out when stream. Shared by the aligned and shifted
    // block paths.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutBlock(T* d, Vector512<T> o0, Vector512<T> o1, Vector512<T> o2, Vector512<T> o3, Vector512<T> divisor, bool divide, bool stream)
    {
        int lanes = Vector512<T>.Count;
        if (divide)
        {
            o0 /= divisor;
            o1 /= divisor;
            o2 /= divisor;
            o3 /= divisor;
        }
        if (stream)
        {
            o0.StoreAlignedNonTemporal(d);
            o1.StoreAlignedNonTemporal(d + lanes);
            o2.StoreAlignedNonTemporal(d + 2 * lanes);
            o3.StoreAlignedNonTemporal(d + 3 * lanes);
        }
        else
        {
            o0.Store(d);
            o1.Store(d + lanes);
            o2.Store(d + 2 * lanes);
            o3.Store(d + 3 * lanes);
        }
    }

    // The first node n with offsets[n] + n ≥ work (v when none): node ranges of equal edges + nodes.
    private static int FirstNode(int* offsets, int v, long work)
    {
        int lo = 0, hi = v;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if ((long)offsets[mid] + mid < work) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    // dst = Σ_q src[order[q]] for q in [first, last), in that order; 4 vectors of columns held in registers.
    // The rows SortedPrefetchRows positions ahead in order (possibly the next nodes' edges) are prefetched.
    private static void SumRows(T* src, int f, int* order, int first, int last, int e, T* dst)
    {
        int lanes = Vector512<T>.Count;
        int col = 0;
        for (; col + 4 * lanes <= f; col += 4 * lanes)
        {
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int q = first; q < last; q++)
            {
                if (col == 0 && q + SortedPrefetchRows < e) PrefetchAhead(src, f, order, q);
                T* row = src + (long)order[q] * f + col;
                a0 += Vector512.Load(row);
                a1 += Vector512.Load(row + lanes);
                a2 += Vector512.Load(row + 2 * lanes);
                a3 += Vector512.Load(row + 3 * lanes);
            }
            a0.Store(dst + col);
            a1.Store(dst + col + lanes);
            a2.Store(dst + col + 2 * lanes);
            a3.Store(dst + col + 3 * lanes);
        }
        for (; col + lanes <= f; col += lanes)
        {
            Vector512<T> a = default;
            for (int q = first; q < last; q++) a += Vector512.Load(src + (long)order[q] * f + col);
            a.Store(dst + col);
        }
        for (; col < f; col++)
        {
            T a = T.Zero;
            for (int q = first; q < last; q++) a += src[(long)order[q] * f + col];
            dst[col] = a;
        }
    }

    // SumRows for source rows misaligned by m elements with f a multiple of the vector width: per block
    // of up to 4 output vectors, k + 1 aligned loads cover the lines the block spans (no load split
    // across cache lines), summed into k + 1 accumulators; output vector j is then cut from accumulators
    // j and j + 1 (lanes m.. of the pair). Lane selection commutes with the sums, so every output
    // element is the same sum in the same order as SumRows': bitwise equal. The extra lanes come from
    // the first and last lines the row touches (same pages as the row) and are discarded.
    private static void SumRowsShifted(T* src, int f, int* order, int first, int last, int e, T* dst, int m)
    {
        int lanes = Vector512<T>.Count;
        var shift = Vector512.Create(m) + Vector512<int>.Indices;
        for (int col = 0; col < f; col += 4 * lanes)
        {
            int k = Math.Min(4, (f - col) / lanes);
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default;
            for (int q = first; q < last; q++)
            {
                if (col == 0 && q + SortedPrefetchRows < e) PrefetchAhead(src, f, order, q);
                T* line = src + (long)order[q] * f + col - m;
                a0 += Vector512.LoadAligned(line);
                a1 += Vector512.LoadAligned(line + lanes);
                if (k > 1) a2 += Vector512.LoadAligned(line + 2 * lanes);
                if (k > 2) a3 += Vector512.LoadAligned(line + 3 * lanes);
                if (k > 3) a4 += Vector512.LoadAligned(line + 4 * lanes);
            }
            T* d = dst + col;
            Join(a0, a1, shift).Store(d);
            if (k > 1) Join(a1, a2, shift).Store(d + lanes);
            if (k > 2) Join(a2, a3, shift).Store(d + 2 * lanes);
            if (k > 3) Join(a3, a4, shift).Store(d + 3 * lanes);
        }
    }

    // Lanes shift .. shift + lanes − 1 of the concatenation (a, b).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Join(Vector512<T> a, Vector512<T> b, Vector512<int> shift)
    {
        if (sizeof(T) == 4) return Avx512F.PermuteVar16x32x2(a.AsUInt32(), shift.AsUInt32(), b.AsUInt32()).As<uint, T>();
        var shift64 = Avx512F.ConvertToVector512Int64(shift.GetLower()).AsUInt64();
        return Avx512F.PermuteVar8x64x2(a.AsUInt64(), shift64, b.AsUInt64()).As<ulong, T>();
    }

    private static void Unordered(T[] src, int so, int[] idx, int io, int e, int f, T[] ys, int yo, int v, Tensor? counts, string op)
    {
        int workers = Math.Max(1, Math.Min(CpuParallel.Threads, e / MinEdgesPerWorker));
        int yLen = v * f;
        var partials = new T[workers - 1][];
        try
        {
            for (int w = 1; w < workers; w++) partials[w - 1] = CpuArrayPool<T>.Rent(yLen, clear: false);
            Parallel.For(0, workers, w =>
            {
                int start = (int)((long)e * w / workers), end = (int)((long)e * (w + 1) / workers);
                fixed (T* ps = src, py = w == 0 ? ys : partials[w - 1])
                fixed (int* pi = idx)
                {
                    T* dst = w == 0 ? py + yo : py;
                    new Span<T>(dst, yLen).Clear();
                    AddEdges(ps + so, pi + io, start, end, f, dst);
                }
            });
            if (workers > 1)
            {
                CpuParallel.For(v, (long)f * workers, (s, end) =>
                {
                    var dst = ys.AsSpan(yo + s * f, (end - s) * f);
                    foreach (var p in partials) TensorPrimitives.Add(dst, p.AsSpan(s * f, (end - s) * f), dst);
                });
            }
        }
        finally
        {
            foreach (var p in partials)
            {
                if (p is not null) CpuArrayPool<T>.Return(p);
            }
        }
        if (counts is not null)
        {
            var nodeCounts = ArrayPool<int>.Shared.Rent(Math.Max(v, 1));
            try
            {
                Array.Clear(nodeCounts, 0, v);
                for (int i = 0; i < e; i++) nodeCounts[idx[io + i]]++;
                var cs = CpuTensor.Span<T>(counts, op);
                for (int n = 0; n < v; n++) cs[n] = T.CreateTruncating(nodeCounts[n]);
                CpuParallel.For(v, f, (s, end) =>
                {
                    fixed (T* py = ys)
                    {
                        for (int n = s; n < end; n++)
                        {
                            if (nodeCounts[n] > 1) Divide(py + yo + (long)n * f, f, T.CreateTruncating(nodeCounts[n]));
                        }
                    }
                });
            }
            finally
            {
                ArrayPool<int>.Shared.Return(nodeCounts);
            }
        }
    }

    // y[index[i]] += src[i] for the edges i in [start, end), in order (source rows read sequentially); the
    // target rows PrefetchRows edges ahead are prefetched (random rows of y).
    private static void AddEdges(T* src, int* index, int start, int end, int f, T* y)
    {
        for (int i = start; i < end; i++)
        {
            if (i + PrefetchRows < end) PrefetchRow(y + (long)index[i + PrefetchRows] * f, f);
            AddRow(y + (long)index[i] * f, src + (long)i * f, f);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(T* dst, T* row, int f)
    {
        int lanes = Vector512<T>.Count, c = 0;
        for (; c + lanes <= f; c += lanes) (Vector512.Load(dst + c) + Vector512.Load(row + c)).Store(dst + c);
        for (; c < f; c++) dst[c] += row[c];
    }

    private static void Divide(T* row, int f, T divisor)
    {
        int lanes = Vector512<T>.Count, c = 0;
        var d = Vector512.Create(divisor);
        for (; c + lanes <= f; c += lanes) (Vector512.Load(row + c) / d).Store(row + c);
        for (; c < f; c++) row[c] /= divisor;
    }
}
