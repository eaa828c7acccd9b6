using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// Backward of the float32 softmax rows (masked or not: the mask only shaped y) with AVX-512:
/// dx = y ⊙ (dy − Σ_j y_j·dy_j) per row; and of the log-softmax rows (log: y = log-softmax output, ≤ 0):
/// dx = dy − e^y · Σ_j dy_j, e^y by <see cref="SoftmaxExp"/> (≤ 2.5 ulp; a −∞ entry of a masked row gives
/// e^y = 0, so dx = dy there, and a fully masked row gives dx = dy, as the TensorPrimitives path does).
/// Shapes: y, dy, dx (rows, n) contiguous; rows [s, e) of one worker.
/// Built like the forward to move the bytes of a copy: y and dy are read once (their rows prefetched
/// <see cref="PrefetchBytes"/> ahead), dx is written once, with the forward's aligned non-temporal stores
/// (<see cref="Output"/>) for large outputs when n is a multiple of 16. Per row: the dot product with two
/// FMA accumulators (a partial last vector loaded masked, zeros past n), its pairwise lane sum, then dx from
/// the row's y and dy again (in L1); log-softmax sums dy alone. Rows of n ≤ 128 are specialised per vector
/// count (no loop counters), and softmax / log-softmax per type parameter. A fully masked softmax row (y = 0) gives 0. dx may alias dy at identical positions (each vector is loaded
/// before the store that covers it). Deterministic (fixed order per row).
/// </summary>
internal static unsafe partial class MaskedSoftmaxAvx512
{
    /// <summary>Rows [s, e) of dx from y and dy: softmax backward, or log-softmax backward when <paramref name="log"/>.</summary>
    public static void BackwardRows(float* y, float* g, float* dx, int n, int s, int e, bool stream, bool log = false)
    {
        if (s >= e) return;
        if (log) BackwardRows<Yes>(y, g, dx, n, s, e, stream);
        else BackwardRows<No>(y, g, dx, n, s, e, stream);
    }

    private static void BackwardRows<TLog>(float* y, float* g, float* dx, int n, int s, int e, bool stream) where TLog : struct, IFlag
    {
        bool partial = n % L != 0;
        if (stream && !partial)
        {
            switch (n / L)
            {
                case 1: BackwardRows<One, Yes, TLog>(y, g, dx, n, s, e); return;
                case 2: BackwardRows<Two, Yes, TLog>(y, g, dx, n, s, e); return;
                case 4: BackwardRows<Four, Yes, TLog>(y, g, dx, n, s, e); return;
                case 8: BackwardRows<Eight, Yes, TLog>(y, g, dx, n, s, e); return;
                default: BackwardRows<Zero, Yes, TLog>(y, g, dx, n, s, e); return;
            }
        }
        switch ((n + L - 1) / L)
        {
            case 1: BackwardRows<One, No, TLog>(y, g, dx, n, s, e); return;
            case 2: BackwardRows<Two, No, TLog>(y, g, dx, n, s, e); return;
            case 4: BackwardRows<Four, No, TLog>(y, g, dx, n, s, e); return;
            case 8: BackwardRows<Eight, No, TLog>(y, g, dx, n, s, e); return;
            default: BackwardRows<Zero, No, TLog>(y, g, dx, n, s, e); return;
        }
    }

    // TVectors: the row's vector count when it is 1, 2, 4 or 8 (loops of constant trip count), else Zero
    // (the count taken from n at run time). TLog: log-softmax (Σ dy, dx = dy − e^y·Σ) instead of softmax
    // (Σ y·dy, dx = (dy − Σ)·y).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRows<TVectors, TStream, TLog>(float* y, float* g, float* dx, int n, int s, int e)
        where TVectors : struct, IConstant where TStream : struct, IFlag where TLog : struct, IFlag
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
                acc0 = Term<TLog>(yr + v * L, gr + v * L, acc0);
                acc1 = Term<TLog>(yr + (v + 1) * L, gr + (v + 1) * L, acc1);
            }
            if (v < whole) acc0 = Term<TLog>(yr + v * L, gr + v * L, acc0);
            if (partial)
            {
                var gv = Avx512F.MaskLoad(gr + whole * L, tail, zero);
                acc1 = TLog.Value ? acc1 + gv : Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(yr + whole * L, tail, zero), gv, acc1);
            }
            // The row's Σ term (softmax: Σ y·dy; log-softmax: −Σ dy, the factor of e^y).
            float t = HorizontalSum(acc0 + acc1);
            var term = Vector512.Create(TLog.Value ? -t : t);
            for (v = 0; v < whole; v++)
            {
                var o = Gradient<TLog>(Vector512.Load(yr + v * L), Vector512.Load(gr + v * L), term);
                output.Put<TStream>(previous, o, v, nv, partial, tail, xr);
                previous = o;
            }
            if (partial)
            {
                // Lanes past n (y and dy 0) are computed but not stored.
                var o = Gradient<TLog>(Avx512F.MaskLoad(yr + whole * L, tail, zero), Avx512F.MaskLoad(gr + whole * L, tail, zero), term);
                output.Put<TStream>(previous, o, whole, nv, partial, tail, xr);
                previous = o;
            }
        }
        if (TStream.Value) output.Finish(dx + (long)e * n, previous);
    }

    // One vector's share of the row's Σ: acc + y·dy (softmax) or acc + dy (log-softmax).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Term<TLog>(float* y, float* g, Vector512<float> acc) where TLog : struct, IFlag =>
        TLog.Value ? acc + Vector512.Load(g) : Vector512.FusedMultiplyAdd(Vector512.Load(y), Vector512.Load(g), acc);

    // dx of one vector: (dy − Σ y·dy)·y (softmax, term = Σ y·dy) or dy + e^y·(−Σ dy) (log-softmax, term = −Σ dy).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gradient<TLog>(Vector512<float> y, Vector512<float> g, Vector512<float> term) where TLog : struct, IFlag =>
        TLog.Value ? Vector512.FusedMultiplyAdd(SoftmaxExp.NonPositive(y), term, g) : (g - term) * y;
}
