using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Hep.Engine;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>
/// Row scatter-add and segment mean for message passing, and their gather adjoint.
/// Shapes: source (E, F), index (E) with values in [0, V), y (V, F), counts (V).
/// Deterministic (sorted / CSR): a stable counting sort of the edge ids by target (serial, O(E + V))
/// gives each node its edges in edge order; nodes are then split across cores and each output row
/// is summed in registers (4 SIMD vectors of columns at a time) in that fixed order: bitwise
/// reproducible for any core count.
/// Unordered (deterministic = false): no sort; the edges are cut into one contiguous chunk per core,
/// each core adds its rows into a private V×F partial buffer (core 0 straight into y), and the
/// partials are summed into y row-parallel. No atomics; the float sums depend on where the chunks
/// are cut (i.e. on the core count), so results can differ from the sorted order in the last bits.
/// Backward (SegmentGather): gradSource[e] = gradY[index[e]] (/ counts), edges split across cores.
/// </summary>
internal static class SegmentReduce<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int MinEdgesPerWorker = 4096;

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
        if (!IndexRange.AllBelow(idx, v)) IndexRange.Throw(idx, v, op);
        var idxArr = CpuTensor.Array<int>(index, op);
        T[]? cs = counts is null ? null : CpuTensor.Array<T>(counts, op);
        int go = gradY.Offset, so = gradSource.Offset, io = index.Offset, co = counts?.Offset ?? 0;
        CpuParallel.For(e, f, (s, end) =>
        {
            for (int i = s; i < end; i++)
            {
                int node = idxArr[io + i];
                var from = gy.AsSpan(go + node * f, f);
                var to = gs.AsSpan(so + i * f, f);
                if (cs is null) from.CopyTo(to);
                else TensorPrimitives.Divide(from, cs[co + node], to);
            }
        });
    }

    private static void Sorted(T[] src, int so, int[] idx, int io, int e, int f, T[] ys, int yo, int v, Tensor? counts, string op)
    {
        var offsets = ArrayPool<int>.Shared.Rent(v + 1);
        var order = ArrayPool<int>.Shared.Rent(Math.Max(e, 1));
        try
        {
            // Stable counting sort of edge ids by target node (CSR row pointers + column order).
            Array.Clear(offsets, 0, v + 1);
            for (int i = 0; i < e; i++) offsets[idx[io + i] + 1]++;
            for (int n = 0; n < v; n++) offsets[n + 1] += offsets[n];
            var cursor = ArrayPool<int>.Shared.Rent(Math.Max(v, 1));
            Array.Copy(offsets, cursor, v);
            for (int i = 0; i < e; i++) order[cursor[idx[io + i]]++] = i;
            ArrayPool<int>.Shared.Return(cursor);

            bool mean = counts is not null;
            long avgWork = (long)f * (1 + e / Math.Max(v, 1));
            CpuParallel.For(v, avgWork, (s, end) =>
            {
                for (int n = s; n < end; n++)
                {
                    int first = offsets[n], count = offsets[n + 1] - first;
                    var dst = ys.AsSpan(yo + n * f, f);
                    SumRows(src, so, f, order.AsSpan(first, count), dst);
                    if (mean && count > 1) TensorPrimitives.Divide(dst, T.CreateTruncating(count), dst);
                }
            });
            if (counts is not null)
            {
                var cs = CpuTensor.Span<T>(counts, op);
                for (int n = 0; n < v; n++) cs[n] = T.CreateTruncating(offsets[n + 1] - offsets[n]);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    private static void Unordered(T[] src, int so, int[] idx, int io, int e, int f, T[] ys, int yo, int v, Tensor? counts, string op)
    {
        int workers = Math.Max(1, Math.Min(CpuParallel.Threads, e / MinEdgesPerWorker));
        long yLen = (long)v * f;
        ys.AsSpan(yo, (int)yLen).Clear();
        var partials = new T[workers - 1][];
        try
        {
            for (int w = 1; w < workers; w++)
            {
                partials[w - 1] = ArrayPool<T>.Shared.Rent((int)yLen);
                partials[w - 1].AsSpan(0, (int)yLen).Clear();
            }
            Parallel.For(0, workers, w =>
            {
                int start = (int)((long)e * w / workers), end = (int)((long)e * (w + 1) / workers);
                T[] dst = w == 0 ? ys : partials[w - 1];
                int dOff = w == 0 ? yo : 0;
                for (int i = start; i < end; i++)
                {
                    var row = dst.AsSpan(dOff + idx[io + i] * f, f);
                    TensorPrimitives.Add(row, src.AsSpan(so + i * f, f), row);
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
                if (p is not null) ArrayPool<T>.Shared.Return(p);
            }
        }
        if (counts is not null)
        {
            var cs = CpuTensor.Span<T>(counts, op);
            cs.Clear();
            for (int i = 0; i < e; i++) cs[idx[io + i]] += T.One;
            var csArr = cs.ToArray();
            CpuParallel.For(v, f, (s, end) =>
            {
                for (int n = s; n < end; n++)
                {
                    if (csArr[n] > T.One)
                    {
                        var dst = ys.AsSpan(yo + n * f, f);
                        TensorPrimitives.Divide(dst, csArr[n], dst);
                    }
                }
            });
        }
    }

    // dst = Σ_r src[rows[r] · f + so .. + f] in the order of rows; 4 vectors of columns held in registers.
    private static void SumRows(T[] src, int so, int f, ReadOnlySpan<int> rows, Span<T> dst)
    {
        int lanes = Vector512<T>.Count;
        ref T s0 = ref MemoryMarshal.GetArrayDataReference(src);
        ref T d0 = ref MemoryMarshal.GetReference(dst);
        int col = 0;
        for (; col + 4 * lanes <= f; col += 4 * lanes)
        {
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default;
            foreach (int r in rows)
            {
                ref T row = ref Unsafe.Add(ref s0, so + r * f + col);
                a0 += Vector512.LoadUnsafe(ref row);
                a1 += Vector512.LoadUnsafe(ref row, (nuint)lanes);
                a2 += Vector512.LoadUnsafe(ref row, (nuint)(2 * lanes));
                a3 += Vector512.LoadUnsafe(ref row, (nuint)(3 * lanes));
            }
            a0.StoreUnsafe(ref d0, (nuint)col);
            a1.StoreUnsafe(ref d0, (nuint)(col + lanes));
            a2.StoreUnsafe(ref d0, (nuint)(col + 2 * lanes));
            a3.StoreUnsafe(ref d0, (nuint)(col + 3 * lanes));
        }
        for (; col + lanes <= f; col += lanes)
        {
            Vector512<T> a = default;
            foreach (int r in rows) a += Vector512.LoadUnsafe(ref Unsafe.Add(ref s0, so + r * f + col));
            a.StoreUnsafe(ref d0, (nuint)col);
        }
        for (; col < f; col++)
        {
            T a = T.Zero;
            foreach (int r in rows) a += Unsafe.Add(ref s0, so + r * f + col);
            Unsafe.Add(ref d0, col) = a;
        }
    }
}
