using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// <see cref="MaskedSoftmaxAvx512"/>, rows that are not pipelined: rows of n ≤ 128 with a partial last vector
/// (in registers, two rows at a time with their steps interleaved, per-lane shift; never streamed) and rows
/// of more than 8 vectors (three passes over an L1 work row). Same thread mapping and determinism as the
/// pipelined rows: one worker's rows [S, E) in order, fixed summation order per row.
/// </summary>
internal static unsafe partial class MaskedSoftmaxAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RegisterRows<TVectors, TPartial>(Job job)
        where TVectors : struct, IConstant where TPartial : struct, IFlag
    {
        int n = job.N;
        var cursor = job.Walk?.At(job.S);
        var tail = FirstLanes(TPartial.Value ? n - (TVectors.Value - 1) * L : L);
        var output = new Output(job.Y + (long)job.S * n);
        var previous = Vector512<float>.Zero;
        int ahead = (PrefetchBytes / sizeof(float) + n - 1) / n;
        float* uniform = stackalloc float[2 * TVectors.Value * L];
        var rowMasks = new MaskRows(job, cursor, uniform, TVectors.Value, tail);
        int r = job.S;
        // Rows with a partial last vector never stream (streaming rows are whole vectors and take PipelinedRows).
        for (; r + 2 <= job.E; r += 2)
        {
            if (r + ahead + 1 < job.E)
            {
                Prefetch<TVectors>(job.X + (long)(r + ahead) * n);
                Prefetch<TVectors>(job.X + (long)(r + ahead + 1) * n);
            }
            float* ma = rowMasks.Current(out int activeA);
            float* mb = rowMasks.Current(out int activeB);
            previous = RegisterRowPair<TVectors, TPartial>(job.X + (long)r * n, ma, activeA, mb, activeB, tail,
                job.Y + (long)r * n, output, previous);
        }
        for (; r < job.E; r++)
        {
            if (r + ahead < job.E) Prefetch<TVectors>(job.X + (long)(r + ahead) * n);
            float* m = rowMasks.Current(out int active);
            previous = RegisterRow<TVectors, TPartial>(job.X + (long)r * n, m, active, tail, job.Y + (long)r * n, output, previous);
        }
    }

    // s_k = x + m for vector k of a row of nv vectors (a partial vector k = nv − 1 holds −∞ past n; k ≥ nv: −∞).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Logits(float* x, float* m, int k, int nv, bool partial, Vector512<float> tail)
    {
        if (k < nv - 1 || (k == nv - 1 && !partial)) return Vector512.Load(x + k * L) + Vector512.Load(m + k * L);
        if (k > nv - 1) return Vector512.Create(float.NegativeInfinity);
        var v = Avx512F.MaskLoad(x + k * L, tail, Vector512.Create(float.NegativeInfinity));
        return v + Avx512F.MaskLoad(m + k * L, tail, Vector512<float>.Zero);
    }

    // One row of nv ≤ 8 vectors in registers; returns its last output vector (the streaming window).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RegisterRow<TVectors, TPartial>(float* x, float* m, int active, Vector512<float> tail,
        float* y, Output output, Vector512<float> previous)
        where TVectors : struct, IConstant where TPartial : struct, IFlag
    {
        int nv = TVectors.Value;
        bool partial = TPartial.Value;
        // Inactive vectors (whole masked blocks at the row's end) are −∞ here and 0 after the exp.
        var none = Vector512.Create(float.NegativeInfinity);
        var v0 = active > 0 ? Logits(x, m, 0, nv, partial, tail) : none;
        var v1 = nv > 1 && active > 1 ? Logits(x, m, 1, nv, partial, tail) : none;
        var v2 = nv > 2 && active > 2 ? Logits(x, m, 2, nv, partial, tail) : none;
        var v3 = nv > 3 && active > 3 ? Logits(x, m, 3, nv, partial, tail) : none;
        var v4 = nv > 4 && active > 4 ? Logits(x, m, 4, nv, partial, tail) : none;
        var v5 = nv > 5 && active > 5 ? Logits(x, m, 5, nv, partial, tail) : none;
        var v6 = nv > 6 && active > 6 ? Logits(x, m, 6, nv, partial, tail) : none;
        var v7 = nv > 7 && active > 7 ? Logits(x, m, 7, nv, partial, tail) : none;
        var mu = Avx512F.Max(Avx512F.Max(Avx512F.Max(v0, v1), Avx512F.Max(v2, v3)), Avx512F.Max(Avx512F.Max(v4, v5), Avx512F.Max(v6, v7)));
        float rowMax = HorizontalMax(mu);
        if (float.IsNegativeInfinity(rowMax))
        {
            var zero = Vector512<float>.Zero;
            for (int k = 0; k < nv; k++) output.Put<No>(k == 0 ? previous : zero, zero, k, nv, partial, tail, y);
            return zero;
        }
        var shift = Shift(mu);
        var off = Vector512<float>.Zero;
        v0 = SoftmaxExp.NonPositive(v0 - shift);
        v1 = nv > 1 && active > 1 ? SoftmaxExp.NonPositive(v1 - shift) : off;
        v2 = nv > 2 && active > 2 ? SoftmaxExp.NonPositive(v2 - shift) : off;
        v3 = nv > 3 && active > 3 ? SoftmaxExp.NonPositive(v3 - shift) : off;
        v4 = nv > 4 && active > 4 ? SoftmaxExp.NonPositive(v4 - shift) : off;
        v5 = nv > 5 && active > 5 ? SoftmaxExp.NonPositive(v5 - shift) : off;
        v6 = nv > 6 && active > 6 ? SoftmaxExp.NonPositive(v6 - shift) : off;
        v7 = nv > 7 && active > 7 ? SoftmaxExp.NonPositive(v7 - shift) : off;
        var sigma = SumTree(nv, v0, v1, v2, v3, v4, v5, v6, v7);
        var c = SoftmaxExp.NonPositive(shift - Vector512.Create(rowMax));
        var scale = c * Vector512.Create(1f / HorizontalSum(sigma * c));
        v0 *= scale;
        output.Put<No>(previous, v0, 0, nv, partial, tail, y);
        if (nv == 1) return v0;
        v1 *= scale;
        output.Put<No>(v0, v1, 1, nv, partial, tail, y);
        if (nv == 2) return v1;
        v2 *= scale;
        output.Put<No>(v1, v2, 2, nv, partial, tail, y);
        if (nv == 3) return v2;
        v3 *= scale;
        output.Put<No>(v2, v3, 3, nv, partial, tail, y);
        if (nv == 4) return v3;
        v4 *= scale;
        output.Put<No>(v3, v4, 4, nv, partial, tail, y);
        if (nv == 5) return v4;
        v5 *= scale;
        output.Put<No>(v4, v5, 5, nv, partial, tail, y);
        if (nv == 6) return v5;
        v6 *= scale;
        output.Put<No>(v5, v6, 6, nv, partial, tail, y);
        if (nv == 7) return v6;
        v7 *= scale;
        output.Put<No>(v6, v7, 7, nv, partial, tail, y);
        return v7;
    }

    // Two consecutive rows (x, x + n) of nv ≤ 8 vectors each, their steps interleaved: one row's
    // dependency chain (logits → max → exp → Σ → 1/Σ → scale) is ~130 cycles long, and the out-of-order
    // window does not reach far enough into the next row by itself. Same arithmetic as RegisterRow.
    // Returns the second row's last output vector. Too large to inline: compiled fully optimised at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> RegisterRowPair<TVectors, TPartial>(float* x, float* ma, int activeA, float* mb, int activeB,
        Vector512<float> tail, float* y, Output output, Vector512<float> previous)
        where TVectors : struct, IConstant where TPartial : struct, IFlag
    {
        int nv = TVectors.Value, n = nv * L;
        bool partial = TPartial.Value;
        if (partial) n = (nv - 1) * L + BitOperations.PopCount(tail.AsUInt32().ExtractMostSignificantBits());
        float* xb = x + n;
        var none = Vector512.Create(float.NegativeInfinity);
        var a0 = activeA > 0 ? Logits(x, ma, 0, nv, partial, tail) : none;
        var b0 = activeB > 0 ? Logits(xb, mb, 0, nv, partial, tail) : none;
        var a1 = nv > 1 && activeA > 1 ? Logits(x, ma, 1, nv, partial, tail) : none;
        var b1 = nv > 1 && activeB > 1 ? Logits(xb, mb, 1, nv, partial, tail) : none;
        var a2 = nv > 2 && activeA > 2 ? Logits(x, ma, 2, nv, partial, tail) : none;
        var b2 = nv > 2 && activeB > 2 ? Logits(xb, mb, 2, nv, partial, tail) : none;
        var a3 = nv > 3 && activeA > 3 ? Logits(x, ma, 3, nv, partial, tail) : none;
        var b3 = nv > 3 && activeB > 3 ? Logits(xb, mb, 3, nv, partial, tail) : none;
        var a4 = nv > 4 && activeA > 4 ? Logits(x, ma, 4, nv, partial, tail) : none;
        var b4 = nv > 4 && activeB > 4 ? Logits(xb, mb, 4, nv, partial, tail) : none;
        var a5 = nv > 5 && activeA > 5 ? Logits(x, ma, 5, nv, partial, tail) : none;
        var b5 = nv > 5 && activeB > 5 ? Logits(xb, mb, 5, nv, partial, tail) : none;
        var a6 = nv > 6 && activeA > 6 ? Logits(x, ma, 6, nv, partial, tail) : none;
        var b6 = nv > 6 && activeB > 6 ? Logits(xb, mb, 6, nv, partial, tail) : none;
        var a7 = nv > 7 && activeA > 7 ? Logits(x, ma, 7, nv, partial, tail) : none;
        var b7 = nv > 7 && activeB > 7 ? Logits(xb, mb, 7, nv, partial, tail) : none;
        var muA = Avx512F.Max(Avx512F.Max(Avx512F.Max(a0, a1), Avx512F.Max(a2, a3)), Avx512F.Max(Avx512F.Max(a4, a5), Avx512F.Max(a6, a7)));
        var muB = Avx512F.Max(Avx512F.Max(Avx512F.Max(b0, b1), Avx512F.Max(b2, b3)), Avx512F.Max(Avx512F.Max(b4, b5), Avx512F.Max(b6, b7)));
        var shiftA = Shift(muA);
        var shiftB = Shift(muB);
        float maxA = HorizontalMax(muA), maxB = HorizontalMax(muB);
        var off = Vector512<float>.Zero;
        // A fully masked row: every logit is −∞, so every e is 0; its scale is forced to 0 below.
        a0 = SoftmaxExp.NonPositive(a0 - shiftA);
        b0 = SoftmaxExp.NonPositive(b0 - shiftB);
        a1 = nv > 1 && activeA > 1 ? SoftmaxExp.NonPositive(a1 - shiftA) : off;
        b1 = nv > 1 && activeB > 1 ? SoftmaxExp.NonPositive(b1 - shiftB) : off;
        a2 = nv > 2 && activeA > 2 ? SoftmaxExp.NonPositive(a2 - shiftA) : off;
        b2 = nv > 2 && activeB > 2 ? SoftmaxExp.NonPositive(b2 - shiftB) : off;
        a3 = nv > 3 && activeA > 3 ? SoftmaxExp.NonPositive(a3 - shiftA) : off;
        b3 = nv > 3 && activeB > 3 ? SoftmaxExp.NonPositive(b3 - shiftB) : off;
        a4 = nv > 4 && activeA > 4 ? SoftmaxExp.NonPositive(a4 - shiftA) : off;
        b4 = nv > 4 && activeB > 4 ? SoftmaxExp.NonPositive(b4 - shiftB) : off;
        a5 = nv > 5 && activeA > 5 ? SoftmaxExp.NonPositive(a5 - shiftA) : off;
        b5 = nv > 5 && activeB > 5 ? SoftmaxExp.NonPositive(b5 - shiftB) : off;
        a6 = nv > 6 && activeA > 6 ? SoftmaxExp.NonPositive(a6 - shiftA) : off;
        b6 = nv > 6 && activeB > 6 ? SoftmaxExp.NonPositive(b6 - shiftB) : off;
        a7 = nv > 7 && activeA > 7 ? SoftmaxExp.NonPositive(a7 - shiftA) : off;
        b7 = nv > 7 && activeB > 7 ? SoftmaxExp.NonPositive(b7 - shiftB) : off;
        var sigmaA = SumTree(nv, a0, a1, a2, a3, a4, a5, a6, a7);
        var sigmaB = SumTree(nv, b0, b1, b2, b3, b4, b5, b6, b7);
        var cA = SoftmaxExp.NonPositive(shiftA - Vector512.Create(maxA));
        var cB = SoftmaxExp.NonPositive(shiftB - Vector512.Create(maxB));
        var scaleA = float.IsNegativeInfinity(maxA) ? off : cA * Vector512.Create(1f / HorizontalSum(sigmaA * cA));
        var scaleB = float.IsNegativeInfinity(maxB) ? off : cB * Vector512.Create(1f / HorizontalSum(sigmaB * cB));
        float* yb = y + n;
        a0 *= scaleA;
        output.Put<No>(previous, a0, 0, nv, partial, tail, y);
        var last = a0;
        if (nv > 1) { a1 *= scaleA; output.Put<No>(last, a1, 1, nv, partial, tail, y); last = a1; }
        if (nv > 2) { a2 *= scaleA; output.Put<No>(last, a2, 2, nv, partial, tail, y); last = a2; }
        if (nv > 3) { a3 *= scaleA; output.Put<No>(last, a3, 3, nv, partial, tail, y); last = a3; }
        if (nv > 4) { a4 *= scaleA; output.Put<No>(last, a4, 4, nv, partial, tail, y); last = a4; }
        if (nv > 5) { a5 *= scaleA; output.Put<No>(last, a5, 5, nv, partial, tail, y); last = a5; }
        if (nv > 6) { a6 *= scaleA; output.Put<No>(last, a6, 6, nv, partial, tail, y); last = a6; }
        if (nv > 7) { a7 *= scaleA; output.Put<No>(last, a7, 7, nv, partial, tail, y); last = a7; }
        b0 *= scaleB;
        output.Put<No>(last, b0, 0, nv, partial, tail, yb);
        last = b0;
        if (nv > 1) { b1 *= scaleB; output.Put<No>(last, b1, 1, nv, partial, tail, yb); last = b1; }
        if (nv > 2) { b2 *= scaleB; output.Put<No>(last, b2, 2, nv, partial, tail, yb); last = b2; }
        if (nv > 3) { b3 *= scaleB; output.Put<No>(last, b3, 3, nv, partial, tail, yb); last = b3; }
        if (nv > 4) { b4 *= scaleB; output.Put<No>(last, b4, 4, nv, partial, tail, yb); last = b4; }
        if (nv > 5) { b5 *= scaleB; output.Put<No>(last, b5, 5, nv, partial, tail, yb); last = b5; }
        if (nv > 6) { b6 *= scaleB; output.Put<No>(last, b6, 6, nv, partial, tail, yb); last = b6; }
        if (nv > 7) { b7 *= scaleB; output.Put<No>(last, b7, 7, nv, partial, tail, yb); last = b7; }
        return last;
    }

    // Rows of more than 8 vectors: per-lane max, then e and σ into an L1 work row, then the scaled output.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LongRows(Job job)
    {
        int n = job.N, nv = (n + L - 1) / L;
        bool partial = n % L != 0;
        var tail = FirstLanes(n - (nv - 1) * L);
        var cursor = job.Walk?.At(job.S);
        var output = new Output(job.Y + (long)job.S * n);
        var previous = Vector512<float>.Zero;
        var work = GC.AllocateUninitializedArray<float>(3 * nv * L, pinned: true);   // e row, then the two uniform mask rows
        fixed (float* w = work)
        {
            var rowMasks = new MaskRows(job, cursor, w + nv * L, nv, tail);
            for (int r = job.S; r < job.E; r++)
            {
                float* m = rowMasks.Current(out int active);
                previous = job.Stream
                    ? LongRow<Yes>(job.X + (long)r * n, m, nv, active, partial, tail, w, job.Y + (long)r * n, output, previous)
                    : LongRow<No>(job.X + (long)r * n, m, nv, active, partial, tail, w, job.Y + (long)r * n, output, previous);
            }
        }
        if (job.Stream) output.Finish(job.Y + (long)job.E * n, previous);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LongRow<TStream>(float* x, float* m, int nv, int active, bool partial, Vector512<float> tail,
        float* w, float* y, Output output, Vector512<float> previous) where TStream : struct, IFlag
    {
        // Only the active vectors are read; the rest of the row is written as zeros.
        var mu0 = Vector512.Create(float.NegativeInfinity);
        var mu1 = mu0;
        int k = 0;
        for (; k + 2 <= active; k += 2)
        {
            mu0 = Avx512F.Max(mu0, Logits(x, m, k, nv, partial, tail));
            mu1 = Avx512F.Max(mu1, Logits(x, m, k + 1, nv, partial, tail));
        }
        if (k < active) mu0 = Avx512F.Max(mu0, Logits(x, m, k, nv, partial, tail));
        var mu = Avx512F.Max(mu0, mu1);
        float rowMax = HorizontalMax(mu);
        var zero = Vector512<float>.Zero;
        if (float.IsNegativeInfinity(rowMax))
        {
            for (k = 0; k < nv; k++) output.Put<TStream>(k == 0 ? previous : zero, zero, k, nv, partial, tail, y);
            return zero;
        }
        var shift = Shift(mu);
        var sigma0 = zero;
        var sigma1 = zero;
        for (k = 0; k + 2 <= active; k += 2)
        {
            var a = SoftmaxExp.NonPositive(Logits(x, m, k, nv, partial, tail) - shift);
            var b = SoftmaxExp.NonPositive(Logits(x, m, k + 1, nv, partial, tail) - shift);
            a.Store(w + k * L);
            b.Store(w + (k + 1) * L);
            sigma0 += a;
            sigma1 += b;
        }
        if (k < active)
        {
            var a = SoftmaxExp.NonPositive(Logits(x, m, k, nv, partial, tail) - shift);
            a.Store(w + k * L);
            sigma0 += a;
        }
        var c = SoftmaxExp.NonPositive(shift - Vector512.Create(rowMax));
        var scale = c * Vector512.Create(1f / HorizontalSum((sigma0 + sigma1) * c));
        for (k = 0; k < nv; k++)
        {
            var o = k < active ? Vector512.Load(w + k * L) * scale : zero;
            output.Put<TStream>(previous, o, k, nv, partial, tail, y);
            previous = o;
        }
        return previous;
    }
}
