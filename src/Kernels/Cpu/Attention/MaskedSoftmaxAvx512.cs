using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// float32 masked softmax rows with AVX-512, built to move the bytes of a copy: x is read once, y is
/// written once. Shapes as <see cref="MaskedSoftmaxRows{T}"/>; rows [s, e) of one worker.
/// Rows of n ≤ 128 (≤ 8 vectors, ParT's particle count) live in registers: s = x + m is loaded once
/// (the partial last vector with a masked load, −∞ in the missing lanes). Rows of whole vectors then take
/// y = exp(s − M) / Σ with the row max M (−float.MaxValue for a fully masked row, so its e are 0 and the
/// clamped 1/Σ keeps them 0); rows with a partial last vector use a per-lane shift:
///   per-lane max  μ = max over the row's vectors (no horizontal step on the critical path),
///   e = exp(s − μ) with <see cref="SoftmaxExp"/> (≤ 2.5 ulp), per-lane sums σ,
///   M = max μ, c = exp(μ − M), y = e · c / Σ_lanes(σ · c)
/// (the per-lane shift keeps every exponent ≤ 0 like a row max does; a lane with no valid entry has
/// μ = −∞, replaced by −float.MaxValue so that its e and c are 0, not NaN).
/// Longer rows take three passes over an L1 work row: per-lane max, exponentials and sums into the
/// work row, scaled output.
/// Streaming (outputs ≥ <see cref="StreamingStores.ThresholdBytes"/>, n a multiple of 16): y is written
/// with aligned non-temporal stores (no read-for-ownership). y's rows are rarely 64-byte aligned, so each
/// output vector is merged with its predecessor (one VPERMT2PS) into the aligned line it completes; the
/// worker's first and last partial lines use masked ordinary stores (<see cref="StreamingLineWriter{T}"/>).
/// The register path is specialised (generic value-type parameters) per vector count, partial last
/// vector and streaming, so its per-vector conditions fold away at JIT time. Rows of whole vectors
/// (streaming or not) are software-pipelined. With a mask row shared by runs of ≥ 16 rows (a key mask
/// is shared by the H·N rows of a jet) or no mask, each run is a three-stage pipeline specialised also
/// on the run's active vector count: step r computes row r + 1's logits and max, stores row r − 1 (its
/// exponentials, held in registers, times its 1/Σ), and computes row r's exponentials and 1/Σ, so no
/// stage waits on the dependency chain (logits → max → exp → Σ → 1/Σ, ~130 cycles, longer than the
/// out-of-order window reaches on its own) of another, and the non-temporal stores go out eight per
/// row instead of in bursts (measured −10…−17 % time per row against the two-stage pipeline with x in
/// L2). With per-row masks, a two-stage pipeline (step r stores row r − 1, then computes row r up to
/// its 1/Σ) runs across the rows without draining. Both use one shift per row (the row max: one exp
/// per entry, no second exp for the lane correction) and take the mask row once per run of rows
/// sharing it, not through the mask cursor per row. Rows with a partial last vector take
/// rows two at a time with their steps interleaved (measured −18% time per row with x in cache).
/// In those runs the per-row vector operations are cut to the active vectors: the max and Σ trees
/// span only them, inactive outputs are stored as zeros without the 1/Σ multiply, a mask row whose
/// entries before the last active vector are all 0 (a padding mask) is added to that vector only, and
/// rows taking shift 0 skip the subtraction (one core, x in L2: −21 % time per row masked, −16 % unmasked).
/// Masked blocks: the vectors after the last one holding a key not masked by −∞ (a padded jet's tail)
/// are written as zeros without evaluating exp. Their lines of x are still read: the pipelined runs load
/// them (<see cref="Touch{TVectors, TActive}"/>: with only the active lines loaded the hardware prefetcher
/// does not stream x, measured 20–35 % slower), so x's traffic is a whole read, as for a copy.
/// Fully masked rows give zeros. Deterministic (fixed order per row).
/// Files: this one holds the entry, the dispatch and the pipelined rows of whole vectors;
/// <c>MaskedSoftmaxAvx512PartialRows.cs</c> the rows with a partial last vector (two at a time) and the rows of
/// more than 8 vectors; <c>MaskedSoftmaxAvx512Helpers.cs</c> the mask rows, the output stream, the lane
/// reductions and the compile-time constants of the specialisations.
/// </summary>
internal static unsafe partial class MaskedSoftmaxAvx512
{
    private const int L = 16;

    public static void Rows(float* x, float* y, float* mask, MaskWalk? walk, int maskStep, int n, int s, int e, bool stream)
    {
        int nv = (n + L - 1) / L;
        bool partial = n % L != 0;
        var job = new Job(x, y, mask, walk, mask is not null && maskStep == 1, n, s, e, stream && !partial);
        switch (nv)
        {
            case 1: Dispatch<One>(job, partial); break;
            case 2: Dispatch<Two>(job, partial); break;
            case 3: Dispatch<Three>(job, partial); break;
            case 4: Dispatch<Four>(job, partial); break;
            case 5: Dispatch<Five>(job, partial); break;
            case 6: Dispatch<Six>(job, partial); break;
            case 7: Dispatch<Seven>(job, partial); break;
            case 8: Dispatch<Eight>(job, partial); break;
            default: LongRows(job); break;
        }
    }

    /// <summary>One worker's rows [S, E) and their geometry.</summary>
    private readonly struct Job(float* x, float* y, float* mask, MaskWalk? walk, bool rowMask, int n, int s, int e, bool stream)
    {
        public float* X { get; } = x;
        public float* Y { get; } = y;
        public float* Mask { get; } = mask;
        public MaskWalk? Walk { get; } = walk;
        public bool RowMask { get; } = rowMask;
        public int N { get; } = n;
        public int S { get; } = s;
        public int E { get; } = e;
        public bool Stream { get; } = stream;
    }

    private static void Dispatch<TVectors>(Job job, bool partial) where TVectors : struct, IConstant
    {
        // Rows of whole vectors whose mask row is shared by long runs of rows (a key mask, or none) take
        // the three-stage pipeline; per-row masks (short runs) the two-stage one, which does not drain at run ends.
        bool longRuns = job.Walk is null || job.Walk.RunLength >= MinPipelinedRun;
        if (job.Stream && longRuns) RunPipelinedRows<TVectors, Yes>(job);
        else if (job.Stream) PipelinedRows<TVectors, Yes>(job);
        else if (partial) RegisterRows<TVectors, Yes>(job);
        else if (longRuns) RunPipelinedRows<TVectors, No>(job);
        else PipelinedRows<TVectors, No>(job);
    }

    // Rows sharing a mask row from which the three-stage pipeline (drained at each run's end) pays.
    private const int MinPipelinedRun = 16;

    /// <summary>
    /// Rows of nv ≤ 8 whole vectors, one run of rows sharing a mask row at a time (<see cref="PipelinedRun"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunPipelinedRows<TVectors, TStream>(Job job) where TVectors : struct, IConstant where TStream : struct, IFlag
    {
        int nv = TVectors.Value, n = nv * L;
        var output = new Output(job.Y + (long)job.S * n);
        var previous = Vector512<float>.Zero;
        float* uniform = stackalloc float[2 * nv * L];
        var rowMasks = new MaskRows(job, job.Walk?.At(job.S), uniform, nv, FirstLanes(L));
        if (job.Walk is null)
        {
            // No mask: one run, every vector active, no mask row to add.
            previous = PipelinedRun<TVectors, TVectors, MaskNone, TStream>(job, output, previous, null, job.S, job.E);
            if (TStream.Value) output.Finish(job.Y + (long)job.E * n, previous);
            return;
        }
        for (int r0 = job.S; r0 < job.E;)
        {
            float* m = rowMasks.Run(job.E - r0, out int active, out int count, out bool lastOnly);
            int r1 = r0 + count;
            previous = active switch
            {
                0 => MaskedRun<TVectors, Zero, TStream>(job, output, previous, m, r0, r1, lastOnly),
                1 => MaskedRun<TVectors, One, TStream>(job, output, previous, m, r0, r1, lastOnly),
                2 => MaskedRun<TVectors, Two, TStream>(job, output, previous, m, r0, r1, lastOnly),
                3 => MaskedRun<TVectors, Three, TStream>(job, output, previous, m, r0, r1, lastOnly),
                4 => MaskedRun<TVectors, Four, TStream>(job, output, previous, m, r0, r1, lastOnly),
                5 => MaskedRun<TVectors, Five, TStream>(job, output, previous, m, r0, r1, lastOnly),
                6 => MaskedRun<TVectors, Six, TStream>(job, output, previous, m, r0, r1, lastOnly),
                7 => MaskedRun<TVectors, Seven, TStream>(job, output, previous, m, r0, r1, lastOnly),
                _ => MaskedRun<TVectors, Eight, TStream>(job, output, previous, m, r0, r1, lastOnly),
            };
            r0 = r1;
        }
        if (TStream.Value) output.Finish(job.Y + (long)job.E * n, previous);
    }

    // A run of masked rows: the mask row added to every active vector, or (lastOnly: the entries of the
    // vectors before the last active one are all 0, as in a padding mask) to the last active vector only.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MaskedRun<TVectors, TActive, TStream>(Job job, Output output, Vector512<float> previous,
        float* m, int r0, int r1, bool lastOnly) where TVectors : struct, IConstant where TActive : struct, IConstant where TStream : struct, IFlag =>
        lastOnly
            ? PipelinedRun<TVectors, TActive, MaskLast, TStream>(job, output, previous, m, r0, r1)
            : PipelinedRun<TVectors, TActive, MaskAll, TStream>(job, output, previous, m, r0, r1);

    /// <summary>
    /// Rows [r0, r1) of nv ≤ 8 whole vectors sharing the mask row m, of which the first TActive vectors
    /// are active (compile-time: no per-vector branches). Three stages per step r, each on a different
    /// row so that no stage waits on another's dependency chain: logits, max and shift of row r + 1;
    /// stores of row r − 1 (its exponentials, held in registers, times its 1/Σ); exponentials, Σ and 1/Σ
    /// of row r. 16 vectors are live across a step. Returns the last output vector (the streaming window).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> PipelinedRun<TVectors, TActive, TMask, TStream>(Job job, Output output, Vector512<float> previous,
        float* m, int r0, int r1)
        where TVectors : struct, IConstant where TActive : struct, IConstant where TMask : struct, IConstant where TStream : struct, IFlag
    {
        int nv = TVectors.Value, n = nv * L, active = TActive.Value;
        // Every line of x is prefetched in software and loaded (the inactive vectors by Touch), so the
        // hardware prefetcher sees the whole stream too.
        int pb = Math.Min(MaxPrefetchBytes, PrefetchBytes * 8 / nv);
        int ahead = (pb / sizeof(float) + n - 1) / n;
        var none = Vector512.Create(float.NegativeInfinity);
        var zero = Vector512<float>.Zero;
        var touched = Touch<TVectors, TActive>(job.X + (long)r0 * n, Vector512<int>.Zero);
        var v0 = Logits<TVectors, TActive, TMask>(job.X + (long)r0 * n, m, out var v1, out var v2, out var v3, out var v4, out var v5, out var v6, out var v7, out var shift, out bool shifted);
        Vector512<float> p0 = zero, p1 = zero, p2 = zero, p3 = zero, p4 = zero, p5 = zero, p6 = zero, p7 = zero, scale = zero;
        for (int r = r0; r < r1; r++)
        {
            // Stage 1: row r + 1's logits and shift.
            Vector512<float> u0 = none, u1 = none, u2 = none, u3 = none, u4 = none, u5 = none, u6 = none, u7 = none, shiftU = zero;
            bool shiftedU = false;
            if (r + 1 < r1)
            {
                float* x = job.X + (long)(r + 1) * n;
                if (r + 1 + ahead < job.E) Prefetch<TVectors>(x + (long)ahead * n);
                touched = Touch<TVectors, TActive>(x, touched);
                u0 = Logits<TVectors, TActive, TMask>(x, m, out u1, out u2, out u3, out u4, out u5, out u6, out u7, out shiftU, out shiftedU);
            }
            // Stage 2: row r − 1's stores (the worker's first row holds the stream's first, partial line).
            if (r > r0)
            {
                previous = r - 1 > job.S
                    ? StoreRow<TVectors, TActive, TStream, No>(output, job.Y + (long)(r - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale)
                    : StoreRow<TVectors, TActive, TStream, Yes>(output, job.Y + (long)(r - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale);
            }
            // Stage 3: row r's exponentials and 1/Σ. Σ ≥ e^PlainLow unless the row is fully masked (shifted by
            // the max, the max entry gives e⁰ = 1); then Σ = 0 and the clamp keeps 1/Σ finite, so the scaled zeros stay 0.
            // Rows taking shift 0 skip the subtraction.
            if (shifted)
            {
                v0 -= shift;
                v1 -= shift;
                v2 -= shift;
                v3 -= shift;
                v4 -= shift;
                v5 -= shift;
                v6 -= shift;
                v7 -= shift;
            }
            p0 = active > 0 ? SoftmaxExp.NonPositive(v0) : zero;
            p1 = nv > 1 && active > 1 ? SoftmaxExp.NonPositive(v1) : zero;
            p2 = nv > 2 && active > 2 ? SoftmaxExp.NonPositive(v2) : zero;
            p3 = nv > 3 && active > 3 ? SoftmaxExp.NonPositive(v3) : zero;
            p4 = nv > 4 && active > 4 ? SoftmaxExp.NonPositive(v4) : zero;
            p5 = nv > 5 && active > 5 ? SoftmaxExp.NonPositive(v5) : zero;
            p6 = nv > 6 && active > 6 ? SoftmaxExp.NonPositive(v6) : zero;
            p7 = nv > 7 && active > 7 ? SoftmaxExp.NonPositive(v7) : zero;
            float sum = HorizontalSum(SumTree(active, p0, p1, p2, p3, p4, p5, p6, p7));
            scale = Vector512.Create(1f / MathF.Max(sum, 1e-30f));
            (v0, v1, v2, v3, v4, v5, v6, v7, shift, shifted) = (u0, u1, u2, u3, u4, u5, u6, u7, shiftU, shiftedU);
        }
        if (active < nv) s_touched = touched.ToScalar();
        return r1 - 1 > job.S
            ? StoreRow<TVectors, TActive, TStream, No>(output, job.Y + (long)(r1 - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale)
            : StoreRow<TVectors, TActive, TStream, Yes>(output, job.Y + (long)(r1 - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale);
    }

    // The logits s_k = x_k (+ m_k as TMask says) of one row (vectors past TActive: −∞) and its shift.
    // The shift is the row max (−float.MaxValue for a fully masked row, so its e are 0), except for rows
    // whose max lies in [PlainLow, PlainHigh], which take shift 0 (softmax does not depend on the
    // shift): their e^s stay within float range (e^PlainLow ≤ Σ ≤ n·e^PlainHigh) and only entries more
    // than 87 + PlainLow = 71 below the max (outputs < e^−71 ≈ 1.5e-31) lose relative precision to
    // subnormal exps. This skips the horizontal max (~10 operations on each row's dependency chain) for
    // typical logits, at the cost of two vector compares on the per-lane maxima. Returns s_0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Logits<TVectors, TActive, TMask>(float* x, float* m, out Vector512<float> s1, out Vector512<float> s2,
        out Vector512<float> s3, out Vector512<float> s4, out Vector512<float> s5, out Vector512<float> s6, out Vector512<float> s7,
        out Vector512<float> shift, out bool shifted) where TVectors : struct, IConstant where TActive : struct, IConstant where TMask : struct, IConstant
    {
        int nv = TVectors.Value, active = TActive.Value;
        var none = Vector512.Create(float.NegativeInfinity);
        var s0 = active > 0 ? Input<TMask>(x, m, 0, active) : none;
        s1 = nv > 1 && active > 1 ? Input<TMask>(x, m, 1, active) : none;
        s2 = nv > 2 && active > 2 ? Input<TMask>(x, m, 2, active) : none;
        s3 = nv > 3 && active > 3 ? Input<TMask>(x, m, 3, active) : none;
        s4 = nv > 4 && active > 4 ? Input<TMask>(x, m, 4, active) : none;
        s5 = nv > 5 && active > 5 ? Input<TMask>(x, m, 5, active) : none;
        s6 = nv > 6 && active > 6 ? Input<TMask>(x, m, 6, active) : none;
        s7 = nv > 7 && active > 7 ? Input<TMask>(x, m, 7, active) : none;
        var mu = MaxTree(active, s0, s1, s2, s3, s4, s5, s6, s7);
        shifted = !(Vector512.LessThanOrEqualAll(mu, Vector512.Create(PlainHigh)) && Vector512.GreaterThanOrEqualAny(mu, Vector512.Create(PlainLow)));
        shift = shifted ? Shift(Vector512.Create(HorizontalMax(mu))) : Vector512<float>.Zero;
        return s0;
    }

    // Rows whose max lies in [PlainLow, PlainHigh] take shift 0 (see Logits).
    private const float PlainLow = -16f, PlainHigh = 64f;

    // Vector k of a row's logits: x_k + m_k, or x_k where the mask mode adds nothing to vector k
    // (MaskNone; MaskLast for every vector but the last active one).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Input<TMask>(float* x, float* m, int k, int active) where TMask : struct, IConstant =>
        TMask.Value == MaskAll.Value || (TMask.Value == MaskLast.Value && k == active - 1)
            ? Vector512.Load(x + k * L) + Vector512.Load(m + k * L)
            : Vector512.Load(x + k * L);

    /// <summary>
    /// Rows of nv ≤ 8 whole vectors, software-pipelined: step r stores row r − 1 (its exponentials, held
    /// in registers, times its scale) and then computes row r up to its scale, so the stores of one row
    /// and the dependency chain of the next are adjacent in program order and overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PipelinedRows<TVectors, TStream>(Job job) where TVectors : struct, IConstant where TStream : struct, IFlag
    {
        int nv = TVectors.Value, n = nv * L;
        var cursor = job.Walk?.At(job.S);
        var output = new Output(job.Y + (long)job.S * n);
        var previous = Vector512<float>.Zero;
        int ahead = (PrefetchBytes / sizeof(float) + n - 1) / n;
        float* uniform = stackalloc float[2 * nv * L];
        var rowMasks = new MaskRows(job, cursor, uniform, nv, FirstLanes(L));
        var none = Vector512.Create(float.NegativeInfinity);
        var zero = Vector512<float>.Zero;
        Vector512<float> p0 = zero, p1 = zero, p2 = zero, p3 = zero, p4 = zero, p5 = zero, p6 = zero, p7 = zero, scale = zero;
        float* m = null;
        int active = 0, runEnd = job.S;
        for (int r = job.S; r < job.E; r++)
        {
            if (r > job.S + 1)
                previous = StoreRow<TVectors, TVectors, TStream, No>(output, job.Y + (long)(r - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale);
            else if (r > job.S)   // the worker's first row holds the stream's first (partial) line
                previous = StoreRow<TVectors, TVectors, TStream, Yes>(output, job.Y + (long)(r - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale);
            float* x = job.X + (long)r * n;
            if (r == runEnd)
            {
                m = rowMasks.Run(job.E - r, out active, out int count, out _);
                runEnd = r + count;
            }
            if (r + ahead < job.E) Prefetch<TVectors>(x + (long)ahead * n);
            var v0 = active > 0 ? Vector512.Load(x) + Vector512.Load(m) : none;
            var v1 = nv > 1 && active > 1 ? Vector512.Load(x + L) + Vector512.Load(m + L) : none;
            var v2 = nv > 2 && active > 2 ? Vector512.Load(x + 2 * L) + Vector512.Load(m + 2 * L) : none;
            var v3 = nv > 3 && active > 3 ? Vector512.Load(x + 3 * L) + Vector512.Load(m + 3 * L) : none;
            var v4 = nv > 4 && active > 4 ? Vector512.Load(x + 4 * L) + Vector512.Load(m + 4 * L) : none;
            var v5 = nv > 5 && active > 5 ? Vector512.Load(x + 5 * L) + Vector512.Load(m + 5 * L) : none;
            var v6 = nv > 6 && active > 6 ? Vector512.Load(x + 6 * L) + Vector512.Load(m + 6 * L) : none;
            var v7 = nv > 7 && active > 7 ? Vector512.Load(x + 7 * L) + Vector512.Load(m + 7 * L) : none;
            var mu = Avx512F.Max(Avx512F.Max(Avx512F.Max(v0, v1), Avx512F.Max(v2, v3)), Avx512F.Max(Avx512F.Max(v4, v5), Avx512F.Max(v6, v7)));
            // One shift per row; a fully masked row (max −∞) shifts by −float.MaxValue, so its e are 0.
            var shift = Shift(Vector512.Create(HorizontalMax(mu)));
            p0 = SoftmaxExp.NonPositive(v0 - shift);
            p1 = nv > 1 && active > 1 ? SoftmaxExp.NonPositive(v1 - shift) : zero;
            p2 = nv > 2 && active > 2 ? SoftmaxExp.NonPositive(v2 - shift) : zero;
            p3 = nv > 3 && active > 3 ? SoftmaxExp.NonPositive(v3 - shift) : zero;
            p4 = nv > 4 && active > 4 ? SoftmaxExp.NonPositive(v4 - shift) : zero;
            p5 = nv > 5 && active > 5 ? SoftmaxExp.NonPositive(v5 - shift) : zero;
            p6 = nv > 6 && active > 6 ? SoftmaxExp.NonPositive(v6 - shift) : zero;
            p7 = nv > 7 && active > 7 ? SoftmaxExp.NonPositive(v7 - shift) : zero;
            // Σ ≥ 1 unless the row is fully masked (the max entry gives e⁰ = 1 exactly); then Σ = 0 and
            // the clamp keeps 1/Σ finite, so the scaled zeros stay 0.
            float sum = HorizontalSum(SumTree(nv, p0, p1, p2, p3, p4, p5, p6, p7));
            scale = Vector512.Create(1f / MathF.Max(sum, 1e-30f));
        }
        if (job.E > job.S + 1)
            previous = StoreRow<TVectors, TVectors, TStream, No>(output, job.Y + (long)(job.E - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale);
        else if (job.E > job.S)
            previous = StoreRow<TVectors, TVectors, TStream, Yes>(output, job.Y + (long)(job.E - 1) * n, previous, p0, p1, p2, p3, p4, p5, p6, p7, scale);
        if (TStream.Value) output.Finish(job.Y + (long)job.E * n, previous);
    }

    // Stores one row of nv whole vectors e_k · scale; returns its last output vector (the streaming window).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> StoreRow<TVectors, TActive, TStream, TFirst>(Output output, float* y, Vector512<float> previous,
        Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3,
        Vector512<float> e4, Vector512<float> e5, Vector512<float> e6, Vector512<float> e7, Vector512<float> scale)
        where TVectors : struct, IConstant where TActive : struct, IConstant where TStream : struct, IFlag where TFirst : struct, IFlag
    {
        int nv = TVectors.Value, active = TActive.Value;
        var zero = Vector512<float>.Zero;
        if (TStream.Value && !TFirst.Value)
        {
            // Past the stream's first vector: every store is one permute and one aligned line, no checks.
            var a = active > 0 ? e0 * scale : zero;
            output.PutNext(previous, a, y);
            if (nv == 1) return a;
            var b = active > 1 ? e1 * scale : zero;
            output.PutNext(a, b, y + L);
            if (nv == 2) return b;
            a = active > 2 ? e2 * scale : zero;
            output.PutNext(b, a, y + 2 * L);
            if (nv == 3) return a;
            b = active > 3 ? e3 * scale : zero;
            output.PutNext(a, b, y + 3 * L);
            if (nv == 4) return b;
            a = active > 4 ? e4 * scale : zero;
            output.PutNext(b, a, y + 4 * L);
            if (nv == 5) return a;
            b = active > 5 ? e5 * scale : zero;
            output.PutNext(a, b, y + 5 * L);
            if (nv == 6) return b;
            a = active > 6 ? e6 * scale : zero;
            output.PutNext(b, a, y + 6 * L);
            if (nv == 7) return a;
            b = active > 7 ? e7 * scale : zero;
            output.PutNext(a, b, y + 7 * L);
            return b;
        }
        var tail = Vector512<float>.Zero;   // unused: whole vectors only
        var o = active > 0 ? e0 * scale : zero;
        output.Put<TStream>(previous, o, 0, nv, false, tail, y);
        if (nv == 1) return o;
        var o1 = active > 1 ? e1 * scale : zero;
        output.Put<TStream>(o, o1, 1, nv, false, tail, y);
        if (nv == 2) return o1;
        o = active > 2 ? e2 * scale : zero;
        output.Put<TStream>(o1, o, 2, nv, false, tail, y);
        if (nv == 3) return o;
        o1 = active > 3 ? e3 * scale : zero;
        output.Put<TStream>(o, o1, 3, nv, false, tail, y);
        if (nv == 4) return o1;
        o = active > 4 ? e4 * scale : zero;
        output.Put<TStream>(o1, o, 4, nv, false, tail, y);
        if (nv == 5) return o;
        o1 = active > 5 ? e5 * scale : zero;
        output.Put<TStream>(o, o1, 5, nv, false, tail, y);
        if (nv == 6) return o1;
        o = active > 6 ? e6 * scale : zero;
        output.Put<TStream>(o1, o, 6, nv, false, tail, y);
        if (nv == 7) return o;
        o1 = active > 7 ? e7 * scale : zero;
        output.Put<TStream>(o, o1, 7, nv, false, tail, y);
        return o1;
    }

    // Software prefetch distance for x: the hardware prefetcher alone lets the exp-heavy loop stall on
    // loads (measured: ≈ 10% slower at B·H·N = 131k rows of 128; same process, two cores, with the touch
    // loads below: unmasked 3.37 vs 3.65 ms median without it, and the masked softmax, in four of seven
    // harness runs, 2.81–4.11 vs 3.31–5.32 ms median without it (in the other three 3–8 % slower with it):
    // the hardware prefetcher alone does not keep up when other processes load the memory).
    private const int PrefetchBytes = 2048;

    // The pipelined runs prefetch PrefetchBytes · 8 / nv ahead (at most MaxPrefetchBytes), so shorter rows,
    // which compute faster, prefetch as far ahead in time. (Scaling by the active vector count instead,
    // up to 8 KB for padded jets, measured 3.16 vs 2.81 ms median for the masked softmax with the touch loads.)
    private const int MaxPrefetchBytes = 8192;

    // Sink of the touch loads (written once per run, never read): keeps the JIT from dropping them. A static
    // store is one the JIT must keep. Tried instead: one Volatile.Read(int) per inactive line (kept by the JIT,
    // checked in the disassembly, no sink needed), but the masked softmax then measured 5–13 % slower in
    // minimum time (same process, calls alternated, benchmark shape), so the vector loads and this sink stay.
    private static int s_touched;

    /// <summary>
    /// Loads the inactive vectors of the row at x (TActive ≤ k &lt; TVectors; nothing when all are active) and
    /// folds them into sink. Their outputs are 0 without them, but skipping their lines leaves the demand
    /// loads sparse (a padded jet's rows read the first active·64 bytes of every 512), and the hardware
    /// prefetcher then does not stream x: with the benchmark's key mask (two cores, same process, 20–30
    /// alternating rounds, three runs) the masked softmax took 3.80–4.29 ms median with only the active
    /// lines loaded (all lines software-prefetched), 2.84–3.42 ms with every line loaded too (the
    /// streaming copy 2.93–3.25 ms). The per-row-mask rows (<see cref="PipelinedRows{TVectors, TStream}"/>) do not
    /// touch: with a (B, 1, N, N) padding mask, loading their inactive lines too measured slower (minimum
    /// 5.05–5.15 ms against 4.63–4.88 ms, same process, calls alternated).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Touch<TVectors, TActive>(float* x, Vector512<int> sink) where TVectors : struct, IConstant where TActive : struct, IConstant
    {
        int nv = TVectors.Value, active = TActive.Value;
        int* p = (int*)x;
        if (active <= 0) sink ^= Vector512.Load(p);
        if (nv > 1 && active <= 1) sink ^= Vector512.Load(p + L);
        if (nv > 2 && active <= 2) sink ^= Vector512.Load(p + 2 * L);
        if (nv > 3 && active <= 3) sink ^= Vector512.Load(p + 3 * L);
        if (nv > 4 && active <= 4) sink ^= Vector512.Load(p + 4 * L);
        if (nv > 5 && active <= 5) sink ^= Vector512.Load(p + 5 * L);
        if (nv > 6 && active <= 6) sink ^= Vector512.Load(p + 6 * L);
        if (nv > 7 && active <= 7) sink ^= Vector512.Load(p + 7 * L);
        return sink;
    }

    // Touches the cache lines of the row at x, one per vector (a misaligned row's last line is the next row's first).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<TVectors>(float* x) where TVectors : struct, IConstant
    {
        Sse.Prefetch0(x);
        if (TVectors.Value > 1) Sse.Prefetch0(x + L);
        if (TVectors.Value > 2) Sse.Prefetch0(x + 2 * L);
        if (TVectors.Value > 3) Sse.Prefetch0(x + 3 * L);
        if (TVectors.Value > 4) Sse.Prefetch0(x + 4 * L);
        if (TVectors.Value > 5) Sse.Prefetch0(x + 5 * L);
        if (TVectors.Value > 6) Sse.Prefetch0(x + 6 * L);
        if (TVectors.Value > 7) Sse.Prefetch0(x + 7 * L);
    }
}
