using System.Buffers;
using Hep.Engine;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>
/// Stable counting sort of element ids by segment: index (E) in [0, V) → offsets (V + 1) and order (E),
/// the element ids of each segment in increasing order (CSR). Parallel: the elements are cut into one
/// contiguous chunk per core; each core counts its chunk into a private V-entry histogram, a serial
/// O(V · cores) pass turns the histograms into the offsets and each chunk's first slot per segment
/// (chunk w's ids of segment v follow those of chunks &lt; w), and each core then writes its chunk's ids
/// in element order. The result is the same for any core count (deterministic). The caller validates
/// the index range first.
/// </summary>
internal static unsafe class SegmentPlanBuilder
{
    private const int MinElementsPerWorker = 16384;

    /// <summary>index (E) → offsets (V + 1), order (E) as tensors; an out-of-range index throws naming BuildSegmentPlan.</summary>
    public static void Build(Tensor index, Tensor offsets, Tensor order)
    {
        const string op = "BuildSegmentPlan";
        var idx = CpuTensor.Span<int>(index, op);
        int e = index.Shape[0], v = offsets.Shape[0] - 1;
        if (!IndexRange.AllBelow(idx, v)) IndexRange.Throw(idx, v, op);
        var ia = CpuTensor.Array<int>(index, op);
        var oa = CpuTensor.Array<int>(offsets, op);
        var qa = CpuTensor.Array<int>(order, op);
        fixed (int* pi = ia, po = oa, pq = qa)
        {
            Build(pi + index.Offset, e, v, po + offsets.Offset, pq + order.Offset);
        }
    }

    public static void Build(int* index, int e, int v, int* offsets, int* order)
    {
        int workers = Math.Max(1, Math.Min(CpuParallel.Threads, e / MinElementsPerWorker));
        if (workers == 1)
        {
            new Span<int>(offsets, v + 1).Clear();
            for (int i = 0; i < e; i++) offsets[index[i] + 1]++;
            for (int n = 0; n < v; n++) offsets[n + 1] += offsets[n];
            var cursorArray = ArrayPool<int>.Shared.Rent(Math.Max(v, 1));
            try
            {
                fixed (int* cursor = cursorArray)
                {
                    new Span<int>(offsets, v).CopyTo(new Span<int>(cursor, v));
                    for (int i = 0; i < e; i++) order[cursor[index[i]]++] = i;
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(cursorArray);
            }
            return;
        }
        long stride = Math.Max(v, 1);
        var histArray = ArrayPool<int>.Shared.Rent((int)(stride * workers));
        try
        {
            fixed (int* hist = histArray)
            {
                nint h = (nint)hist, idx = (nint)index, ord = (nint)order;
                Parallel.For(0, workers, w =>
                {
                    int* counts = (int*)h + w * stride, ix = (int*)idx;
                    new Span<int>(counts, v).Clear();
                    int start = (int)((long)e * w / workers), end = (int)((long)e * (w + 1) / workers);
                    for (int i = start; i < end; i++) counts[ix[i]]++;
                });
                int running = 0;
                for (int n = 0; n < v; n++)
                {
                    offsets[n] = running;
                    for (int w = 0; w < workers; w++)
                    {
                        int c = hist[w * stride + n];
                        hist[w * stride + n] = running;
                        running += c;
                    }
                }
                offsets[v] = running;
                Parallel.For(0, workers, w =>
                {
                    int* cursor = (int*)h + w * stride, ix = (int*)idx, o = (int*)ord;
                    int start = (int)((long)e * w / workers), end = (int)((long)e * (w + 1) / workers);
                    for (int i = start; i < end; i++) o[cursor[ix[i]]++] = i;
                });
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(histArray);
        }
    }
}
