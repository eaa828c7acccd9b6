using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// Backward of the float32 softmax rows (masked or not: the mask only shaped y) with AVX-512:
/// dx = y ⊙ (dy − Σ_j y_j·dy_j) per row. Shapes: y, dy, dx (rows, n) contiguous; rows [s, e) of one worker.
/// Built like the forward to move the bytes of a copy: y and dy are read once (their rows prefetched
/// <see cref="PrefetchBytes"/> ahead), dx is written once, with the forward's aligned non-temporal stores
/// (<see cref="Output"/>) for large outputs when n is a multiple of 16. Per row: the dot product with two
/// FMA accumulators (a partial last vector loaded masked, zeros past n), its pairwise lane sum, then dx from
/// the row's y and dy again (in L1). Rows of n ≤ 128 are specialised per vector count (no loop counters).
/// A fully masked row (y = 0) gives 0. dx may alias dy at identical positions (each vector is loaded
/// before the store that covers it). Deterministic (fixed order per row).
/// </summary>
internal static unsafe partial class MaskedSoftmaxAvx512
{
    public static void BackwardRows(float* y, float* g, float* dx, int n, int s, int e, bool stream)
    {
        if (s >= e) return;
        bool partial = n % L != 0;
        if (stream && !partial)
        {
            switch (n / L)
            {
                case 1: BackwardRows<One, Yes>(y, g, dx, n, s, e); return;
                case 2: BackwardRows<Two, Yes>(y, g, dx, n, s, e); return;
                case 4: BackwardRows<Four, Yes>(y, g, dx, n, s, e); return;
                case 8: BackwardRows<Eight, Yes>(y, g, dx, n, s, e); return;
                default: BackwardRows<Zero, Yes>(y, g, dx, n, s, e); return;
            }
        }
        switch ((n + L - 1) / L)
        {
            case 1: BackwardRows<One, No>(y, g, dx, n, s, e); return;
            case 2: BackwardRows<Two, No>(y, g, dx, n, s, e); return;
            case 4: BackwardRows<Four, No>(y, g, dx, n, s, e); return;
            case 8: BackwardRows<Eight, No>(y, g, dx, n, s, e); return;
            default: BackwardRows<Zero, No>(y, g, dx, n, s, e); return;
        }
    }

    // TVectors: the row's vector count when it is 1, 2, 4 or 8 (loops of constant trip count), else Zero
    // (the count taken from n at run time).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRows<TVectors, TStream>(float* y, float* g, float* dx, int n, int s, int e)
        where TVectors : struct, IConstant where TStream : struct, IFlag
    {
        int nv = TVectors.Value > 0 ? TVectors.Value : (n + L - 1) / L;
        int whole = n / L;
        bool partial = n % L != 0;
        var tail = FirstLanes(partial ? n - whole * L : L);
        var output = new Output(dx + (long)s * n);
        var previous = Vector512<float>.Zero;
        var zero = Vector512<float>.Zero;
        int lines = (n * sizeof(float) + 63) / 64;
        long ahead = (long)(PrefetchBytes / sizeof(float) + n - 1) / n * n;
        for (int r = s; r < e; r++)
        {
            long offset = (long)r * n;
            float* yr = y + offset, gr = g + offset, xr = dx + offset;
            if (r + 1 < e)
            {
                // The row `ahead` rows on (clamped to the worker's last row): its lines of y and dy.
                long next = Math.Min(offset + ahead, (long)(e - 1) * n);
                byte* py = (byte*)(y + next), pg = (byte*)(g + next);
                for (int k = 0; k < lines; k++)
                {
                    Sse.Prefetch0(py + 64 * k);
                    Sse.Prefetch0(pg + 64 * k);
                }
            }
            var acc0 = zero;
            var acc1 = zero;
            int v = 0;
            for (; v + 2 <= whole; v += 2)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(yr + v * L), Vector512.Load(gr + v * L), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(yr + (v + 1) * L), Vector512.Load(gr + (v + 1) * L), acc1);
            }
            if (v < whole) acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(yr + v * L), Vector512.Load(gr + v * L), acc0);
            if (partial)
                acc1 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(yr + whole * L, tail, zero), Avx512F.MaskLoad(gr + whole * L, tail, zero), acc1);
            var dot = Vector512.Create(HorizontalSum(acc0 + acc1));
            for (v = 0; v < whole; v++)
            {
                var o = (Vector512.Load(gr + v * L) - dot) * Vector512.Load(yr + v * L);
                output.Put<TStream>(previous, o, v, nv, partial, tail, xr);
                previous = o;
            }
            if (partial)
            {
                var o = (Avx512F.MaskLoad(gr + whole * L, tail, zero) - dot) * Avx512F.MaskLoad(yr + whole * L, tail, zero);
                output.Put<TStream>(previous, o, whole, nv, partial, tail, xr);
                previous = o;
            }
        }
        if (TStream.Value) output.Finish(dx + (long)e * n, previous);
    }
}
