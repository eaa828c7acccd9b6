using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu.Attention;

internal static unsafe partial class FlashAttention<T>
{
    /// <summary>True when a call takes the single-query path (class attention: Nq = 1, float32, D = 16, AVX-512).</summary>
    private static bool SingleQuery(Geometry g) => typeof(T) == typeof(float) && g.Nq == 1 && g.D == 16 && Avx512F.IsSupported;

    // Work items are whole jets (the H heads of one b share the jet's key mask, computed once per jet),
    // claimed from a shared counter by one worker per core; each worker pins the arrays and aligns its
    // scratch once, not per jet.
    private static void SingleQueryForward(Geometry g, Tensor q, Tensor k, Tensor v, float scale, Tensor output, Tensor lse)
    {
        var qa = CpuTensor.Array<T>(q, g.Op);
        var ka = CpuTensor.Array<T>(k, g.Op);
        var va = CpuTensor.Array<T>(v, g.Op);
        var oa = CpuTensor.Array<T>(output, g.Op);
        var la = CpuTensor.Array<T>(lse, g.Op);
        int next = -1;
        ForEachJetWorker(g, (long)g.H * g.Nk * 64, () =>
        {
            using var w = new JetScratch(g);
            fixed (T* qp = qa, kp = ka, vp = va, bp = g.Bias, mp = g.Mask, op = oa, lp = la, sp = w.Scores, kbp = w.KeyBias)
            {
                float* qf = (float*)(qp + q.Offset), kf = (float*)(kp + k.Offset), vf = (float*)(vp + v.Offset);
                float* bf = bp is null ? null : (float*)(bp + g.BiasOffset), mf = mp is null ? null : (float*)(mp + g.MaskOffset);
                float* of = (float*)(op + output.Offset), lf = (float*)(lp + lse.Offset);
                float* scores = Align64((float*)sp);
                var keyBias = (Vector512<float>*)Align64((float*)kbp);
                for (int b = Interlocked.Increment(ref next); b < g.B; b = Interlocked.Increment(ref next))
                    SingleQueryKernel.ForwardJet(g, qf, kf, vf, bf, mf, keyBias, scale, of, lf, b, scores);
            }
        });
    }

    private static void SingleQueryBackward(Geometry g, Tensor q, Tensor k, Tensor v, float scale, Gradients gr)
    {
        var qa = CpuTensor.Array<T>(q, g.Op);
        var ka = CpuTensor.Array<T>(k, g.Op);
        var va = CpuTensor.Array<T>(v, g.Op);
        int next = -1;
        ForEachJetWorker(g, (long)g.H * g.Nk * 192, () =>
        {
            using var w = new JetScratch(g);
            fixed (T* qp = qa, kp = ka, vp = va, bp = g.Bias, mp = g.Mask, op = gr.Out, lp = gr.Lse, gop = gr.GradOut,
                   gqp = gr.GradQ, gkp = gr.GradK, gvp = gr.GradV, gbp = gr.GradBias, kbp = w.KeyBias, sp = w.Scores)
            {
                float* qf = (float*)(qp + q.Offset), kf = (float*)(kp + k.Offset), vf = (float*)(vp + v.Offset);
                float* bf = bp is null ? null : (float*)(bp + g.BiasOffset), mf = mp is null ? null : (float*)(mp + g.MaskOffset);
                float* of = (float*)(op + gr.OutOffset), lf = (float*)(lp + gr.LseOffset), gof = (float*)(gop + gr.GradOutOffset);
                float* gqf = (float*)(gqp + gr.GradQOffset), gkf = (float*)(gkp + gr.GradKOffset), gvf = (float*)(gvp + gr.GradVOffset);
                float* gbf = gbp is null ? null : (float*)(gbp + gr.GradBiasOffset), buffer = Align64((float*)sp);
                var keyBias = (Vector512<float>*)Align64((float*)kbp);
                bool stream = StreamKeyGradients(g);
                for (int b = Interlocked.Increment(ref next); b < g.B; b = Interlocked.Increment(ref next))
                    SingleQueryKernel.BackwardJet(g, qf, kf, vf, bf, mf, keyBias, scale, of, lf, gof, gqf, gkf, gvf, gbf, b, buffer, stream);
                if (stream) Sse.StoreFence();
            }
        });
    }

    /// <summary>Test and A/B switch: false keeps every dK / dV row store ordinary.</summary>
    internal static bool StreamingKeyGradients { get; set; } = true;

    // dK and dV go out by whole-line non-temporal stores when each output is at least
    // StreamingStores.ThresholdBytes (ParT's class attention: 2 × 8.5 MB, as much as k and v, which then stay
    // cached), whatever their alignment (SingleQueryKernel.Put). With ordinary stores every line is first read
    // from memory and the writes evict k and v. Same process, benchmark shapes, 64-byte-aligned outputs, calls
    // alternated (4 runs × 300 pairs): backward kernel 11–23 % faster, forward + backward kernels 11–16 %
    // (paired medians); results bit-identical.
    private static bool StreamKeyGradients(Geometry g) =>
        StreamingKeyGradients && StreamingStores.Pays<float>((long)g.B * g.H * g.Nk * 16);

    // Runs worker() on min(cores, jets, work-based) threads at once (inline when one).
    private static void ForEachJetWorker(Geometry g, long workPerJet, Action worker)
    {
        if (g.B <= 0) return;
        int workers = (int)Math.Min(Math.Min(CpuParallel.Threads, g.B), Math.Max(1, g.B * Math.Max(workPerJet, 1) / (1 << 15)));
        if (workers <= 1) worker();
        else Parallel.For(0, workers, _ => worker());
    }

    private static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>One single-query worker's pooled scratch: a row of scores and the current jet's key-bias blocks.</summary>
    private sealed class JetScratch(Geometry g) : IDisposable
    {
        // Keys looked at are rounded up to whole 16-key blocks; +16 keeps a 64-byte aligned start reachable.
        public T[] Scores { get; } = System.Buffers.ArrayPool<T>.Shared.Rent(g.Nk + 48);

        /// <summary>(Nk + 15) / 16 vectors of 0 / −∞ (+16 floats of slack for alignment).</summary>
        public T[] KeyBias { get; } = System.Buffers.ArrayPool<T>.Shared.Rent(g.Nk + 48);

        public void Dispose()
        {
            System.Buffers.ArrayPool<T>.Shared.Return(Scores);
            System.Buffers.ArrayPool<T>.Shared.Return(KeyBias);
        }
    }

    /// <summary>
    /// Class attention, one query per (b, h) over Nk keys, float32 with D = 16 = one Vector512 per key
    /// row. Scores of 16 keys at a time: the 16 products q ⊙ k_j are reduced to one vector of 16 dot
    /// products by a transpose-and-add tree, so k is read in place, never packed (forward:
    /// <see cref="Dot16Adjacent"/>, whose first round comes straight from overlapping loads; backward: <see cref="Dot16"/>).
    /// Forward: s = scale·q·k + bias + mask over the keys up to the jet's last valid one (whole 16-key blocks),
    /// exact max, P = e^{s − m}, l = Σ P, out = Σ_j (P ⊙ Z)_j v_j / l over the keys up to the last valid
    /// one exactly (the v rows after it are not read), lse = m + log l.
    /// Backward (P recomputed from lse, Δ = dO·O): dp_j = dO·v_j, dS = P ⊙ (Z ⊙ dp − Δ),
    /// dV_j = (P ⊙ Z)_j dO, dK_j = dS_j · scale·q, dQ = scale·Σ_j dS_j k_j, dBias = dS; keys after the
    /// last valid one get zero gradients (written in the same pass as the valid keys' rows). Large dK / dV are
    /// written by whole-line non-temporal stores (<see cref="StreamKeyGradients"/>, <see cref="Put{TStore}"/>).
    /// The loops over whole 16-key blocks hold no calls (the partial last block has its own method, dropout
    /// is a type parameter), so the query, dO and the accumulators stay in registers.
    /// Thread mapping: whole jets (b, all H heads) are claimed dynamically by one worker per core; the jet's
    /// key-bias blocks (mask and last valid key) are built once and shared by its heads. Every output
    /// element is written by one worker in a fixed order: deterministic.
    /// </summary>
    private static class SingleQueryKernel
    {
        private static readonly Vector512<int> Lo8 = Control(8, false), Hi8 = Control(8, true), Lo4 = Control(4, false), Hi4 = Control(4, true),
            Lo2 = Control(2, false), Hi2 = Control(2, true), Lo1 = Control(1, false), Hi1 = Control(1, true);

        // VPERMT2PS indices of one round: lanes with bit b take the second operand (see Dot16).
        private static Vector512<int> Control(int b, bool upper)
        {
            var p = Vector512<int>.Indices;
            var hasBit = Vector512.Equals(p & Vector512.Create(b), Vector512.Create(b));
            var withoutBit = upper ? p | Vector512.Create(b) : p;
            var withBit = upper ? p + Vector512.Create(16) : (p ^ Vector512.Create(b)) + Vector512.Create(16);
            return Vector512.ConditionalSelect(hasBit, withBit, withoutBit);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Pair(Vector512<float> x, Vector512<float> y, Vector512<int> lo, Vector512<int> hi) =>
            Avx512F.PermuteVar16x32x2(x, lo, y) + Avx512F.PermuteVar16x32x2(x, hi, y);

        /// <summary>f permuted as the first round permutes a row (lanes of <see cref="Round8"/>'s two products).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector512<float> Lo, Vector512<float> Hi) Split8(Vector512<float> f) =>
            (Avx512F.PermuteVar16x32x2(f, Lo8, f), Avx512F.PermuteVar16x32x2(f, Hi8, f));

        // First round of the tree for rows a and a + 8 taken raw: permuting a ⊙ f and b ⊙ f is permuting a, b
        // and multiplying by f permuted the same way, so the round is a multiply and an FMA (not 2 multiplies + add).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Round8(Vector512<float> a, Vector512<float> b, Vector512<float> fLo, Vector512<float> fHi) =>
            Vector512.FusedMultiplyAdd(Avx512F.PermuteVar16x32x2(a, Hi8, b), fHi, Avx512F.PermuteVar16x32x2(a, Lo8, b) * fLo);

        // Lane j = r_j · f for the 16 rows r_0 … r_15 at r (f given split by Split8). Round b pairs rows i, i | b
        // and keeps, per lane, the half sums of the row whose index has the lane's bit b; after b = 8, 4, 2, 1
        // lane j holds row j's sum.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Dot16(float* r, Vector512<float> fLo, Vector512<float> fHi) => Fold8(
            Round8(Vector512.Load(r), Vector512.Load(r + 128), fLo, fHi),
            Round8(Vector512.Load(r + 16), Vector512.Load(r + 144), fLo, fHi),
            Round8(Vector512.Load(r + 32), Vector512.Load(r + 160), fLo, fHi),
            Round8(Vector512.Load(r + 48), Vector512.Load(r + 176), fLo, fHi),
            Round8(Vector512.Load(r + 64), Vector512.Load(r + 192), fLo, fHi),
            Round8(Vector512.Load(r + 80), Vector512.Load(r + 208), fLo, fHi),
            Round8(Vector512.Load(r + 96), Vector512.Load(r + 224), fLo, fHi),
            Round8(Vector512.Load(r + 112), Vector512.Load(r + 240), fLo, fHi));

        private static readonly Vector512<float> UpperHalf = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(8)).AsSingle();

        // Lane j of Dot16Adjacent's tree before its last permutation holds row 4 (j % 4) + j / 4.
        private static readonly Vector512<int> Transpose4 = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);

        /// <summary>
        /// Lane j = r_j · f for the 16 rows r_0 … r_15 at r, given fL = (f.lo, 0), fH = (0, f.hi) and fS = (f.hi, f.lo)
        /// (halves of 8 lanes). The first round needs no shuffle: rows a = 2p and b = 2p + 1 are adjacent, so the
        /// load at a's middle is (a.hi, b.lo), and a ⊙ fL + b ⊙ fH + (a.hi, b.lo) ⊙ fS holds a's 8 half sums in
        /// lanes 0–7 and b's in lanes 8–15 (3 FMAs from memory for 2 rows, where <see cref="Dot16"/> spends 2
        /// two-source permutes and 2 FMAs). The remaining rounds pair 128-bit chunks (VSHUFF32X4) and then lanes
        /// within chunks (VSHUFPS), cheaper than VPERMT2PS; one VPERMPS puts row j in lane j. 46 vector operations
        /// against Dot16's 53, 15 of them shuffles against 30.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Dot16Adjacent(float* r, Vector512<float> fL, Vector512<float> fH, Vector512<float> fS)
        {
            var z0 = Chunks(PairAdjacent(r, fL, fH, fS), PairAdjacent(r + 32, fL, fH, fS));
            var z1 = Chunks(PairAdjacent(r + 64, fL, fH, fS), PairAdjacent(r + 96, fL, fH, fS));
            var z2 = Chunks(PairAdjacent(r + 128, fL, fH, fS), PairAdjacent(r + 160, fL, fH, fS));
            var z3 = Chunks(PairAdjacent(r + 192, fL, fH, fS), PairAdjacent(r + 224, fL, fH, fS));
            return Avx512F.PermuteVar16x32(Lanes(Halves(z0, z1), Halves(z2, z3)), Transpose4);
        }

        // Rows 2p, 2p + 1 at r: lanes 0–7 the first row's 8 half sums, lanes 8–15 the second's.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> PairAdjacent(float* r, Vector512<float> fL, Vector512<float> fH, Vector512<float> fS) =>
            Vector512.FusedMultiplyAdd(Vector512.Load(r + 8), fS, Vector512.FusedMultiplyAdd(Vector512.Load(r + 16), fH, Vector512.Load(r) * fL));

        // x, y: rows (a, b), (c, d) by halves → chunk i = 4 partial sums of row a, b, c, d.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Chunks(Vector512<float> x, Vector512<float> y) =>
            Avx512F.Shuffle4x128(x, y, 0x88) + Avx512F.Shuffle4x128(x, y, 0xDD);

        // x, y: one row per chunk → chunk i = 2 partial sums of x's row i, then 2 of y's.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Halves(Vector512<float> x, Vector512<float> y) =>
            Avx512F.Shuffle(x, y, 0x44) + Avx512F.Shuffle(x, y, 0xEE);

        // x, y: two rows per chunk → chunk i = the sums of x's two rows, then y's.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Lanes(Vector512<float> x, Vector512<float> y) =>
            Avx512F.Shuffle(x, y, 0x88) + Avx512F.Shuffle(x, y, 0xDD);

        // Dot16 over the first count (< 16) rows at r, zeros in the lanes after them (rows past count not read).
        private static Vector512<float> Dot16Partial(float* r, int count, Vector512<float> fLo, Vector512<float> fHi)
        {
            var rows = stackalloc Vector512<float>[16];
            for (int i = 0; i < 16; i++) rows[i] = i < count ? Vector512.Load(r + i * 16) : Vector512<float>.Zero;
            return Dot16((float*)rows, fLo, fHi);
        }

        // The last three rounds of the reduction tree.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Fold8(Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3,
            Vector512<float> y4, Vector512<float> y5, Vector512<float> y6, Vector512<float> y7)
        {
            var z0 = Pair(y0, y4, Lo4, Hi4);
            var z1 = Pair(y1, y5, Lo4, Hi4);
            var z2 = Pair(y2, y6, Lo4, Hi4);
            var z3 = Pair(y3, y7, Lo4, Hi4);
            return Pair(Pair(z0, z2, Lo2, Hi2), Pair(z1, z3, Lo2, Hi2), Lo1, Hi1);
        }

        // 16 entries of a length-n row from j0 (zeros past n), by a masked load.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> LoadRow(float* row, int j0, int n)
        {
            if (j0 + 16 <= n) return Vector512.Load(row + j0);
            var inside = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - j0)).AsSingle();
            return Avx512F.MaskLoad(row + j0, inside, Vector512<float>.Zero);
        }

        // The dropout keep factors Z of keys j0 … j0 + 15 of a row, or ones without dropout.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Keep<TDrop>(Geometry g, uint rowKey, int j0) where TDrop : struct =>
            typeof(TDrop) == typeof(WithDropout) ? KeepFactors(rowKey, j0, g.DropThreshold, g.KeepScale).As<T, float>() : Vector512<float>.One;

        /// <summary>
        /// Key bias blocks of jet b (0 for a valid key before its last valid one, −∞ otherwise; shared by
        /// its H heads) into keyBias[0 … n/16); returns n, the keys looked at (the last valid key rounded
        /// up to a whole 16-key block, at most Nk; 0 for a jet without valid keys).
        /// </summary>
        public static int JetKeyBias(Geometry g, float* mask, int b, Vector512<float>* keyBias)
        {
            int nk = g.Nk, last = g.LastValid[b], n = Math.Min((last + 15) / 16 * 16, nk);
            float* row = mask is null ? null : mask + (long)b * nk;
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                var valid = Vector512.LessThan(Vector512<int>.Indices + Vector512.Create(j0), Vector512.Create(last));
                if (row is not null) valid &= ~Vector512.Equals(LoadRow(row, j0, last), Vector512<float>.Zero).AsInt32();
                keyBias[j0 / 16] = Vector512.ConditionalSelect(valid.AsSingle(), Vector512<float>.Zero, Vector512.Create(float.NegativeInfinity));
            }
            return n;
        }

        /// <summary>The H heads of jet b: its key-bias blocks once, then <see cref="Forward{TDrop}"/> per head.</summary>
        public static void ForwardJet(Geometry g, float* q, float* k, float* v, float* bias, float* mask, Vector512<float>* keyBias, float scale,
            float* output, float* lse, int b, float* scores)
        {
            int n = JetKeyBias(g, mask, b, keyBias);
            for (int bh = b * g.H; bh < (b + 1) * g.H; bh++)
            {
                if (g.Dropout) Forward<WithDropout>(g, q, k, v, bias, keyBias, n, scale, output, lse, bh, scores);
                else Forward<NoDropout>(g, q, k, v, bias, keyBias, n, scale, output, lse, bh, scores);
            }
        }

        /// <summary>
        /// The H heads of jet b: its key-bias blocks once, then <see cref="Backward{TDrop, TStore}"/> per head (dK and
        /// dV by whole-line non-temporal stores when <paramref name="stream"/>, see <see cref="Put{TStore}"/>).
        /// </summary>
        public static void BackwardJet(Geometry g, float* q, float* k, float* v, float* bias, float* mask, Vector512<float>* keyBias, float scale,
            float* output, float* lse, float* gradOut, float* gradQ, float* gradK, float* gradV, float* gradBias, int b, float* buffer, bool stream)
        {
            int n = JetKeyBias(g, mask, b, keyBias);
            for (int bh = b * g.H; bh < (b + 1) * g.H; bh++)
            {
                if (stream)
                {
                    if (g.Dropout) Backward<WithDropout, Streamed>(g, q, k, v, bias, keyBias, n, scale, output, lse, gradOut, gradQ, gradK, gradV, gradBias, bh, buffer);
                    else Backward<NoDropout, Streamed>(g, q, k, v, bias, keyBias, n, scale, output, lse, gradOut, gradQ, gradK, gradV, gradBias, bh, buffer);
                }
                else if (g.Dropout) Backward<WithDropout, Cached>(g, q, k, v, bias, keyBias, n, scale, output, lse, gradOut, gradQ, gradK, gradV, gradBias, bh, buffer);
                else Backward<NoDropout, Cached>(g, q, k, v, bias, keyBias, n, scale, output, lse, gradOut, gradQ, gradK, gradV, gradBias, bh, buffer);
            }
        }

        /// <summary>
        /// Head bh: pass 1 scores the n keys (k read in place) into `scores` and takes their max; pass 2
        /// exponentiates them in place; pass 3 accumulates the P·V rows of the keys up to the jet's last valid one.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Forward<TDrop>(Geometry g, float* q, float* k, float* v, float* bias, Vector512<float>* keyBias, int n, float scale,
            float* output, float* lse, int bh, float* scores) where TDrop : struct
        {
            int nk = g.Nk, full = n & ~15;
            float* o = output + bh * 16;
            var qv = Vector512.Load(q + bh * 16) * scale;
            float* kb = k + (long)bh * nk * 16, vb = v + (long)bh * nk * 16;
            float* br = bias is null ? null : bias + (long)bh * nk;
            var maxv = Vector512.Create(float.NegativeInfinity);
            if (full < n)
            {
                // The partial last block (n = Nk, not a multiple of 16; its lanes past Nk have a −∞ key bias), first:
                // with its call before the loop, maxv and the query's forms stay in registers through the loop.
                var (qLo, qHi) = Split8(qv);
                var s = Dot16Partial(kb + full * 16, n - full, qLo, qHi) + keyBias[full >> 4];
                if (br is not null) s += LoadRow(br, full, nk);
                s.Store(scores + full);
                maxv = s;
            }
            var qL = Vector512.ConditionalSelect(UpperHalf, Vector512<float>.Zero, qv);
            var qH = Vector512.ConditionalSelect(UpperHalf, qv, Vector512<float>.Zero);
            var qS = Avx512F.Shuffle4x128(qv, qv, 0x4E);
            for (int j0 = 0; j0 < full; j0 += 16)
            {
                var s = Dot16Adjacent(kb + j0 * 16, qL, qH, qS) + keyBias[j0 >> 4];
                if (br is not null) s += Vector512.Load(br + j0);
                s.Store(scores + j0);
                maxv = Avx512F.Max(maxv, s);
            }
            float m = MaxAcross(maxv).ToScalar();
            if (float.IsNegativeInfinity(m) && !AnyNaN(scores, n))
            {
                Vector512<float>.Zero.Store(o);
                lse[bh] = float.NegativeInfinity;
                return;
            }
            uint rowKey = typeof(TDrop) == typeof(WithDropout) ? AttentionDropout.RowKey(g.DropSeed, bh) : 0;
            var shift = Vector512.Create(m);
            var sum = Vector512<float>.Zero;
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                var ev = FastExp.NonPositive(Vector512.Load(scores + j0) - shift);
                sum += ev;
                if (typeof(TDrop) == typeof(WithDropout)) ev *= Keep<TDrop>(g, rowKey, j0);
                ev.Store(scores + j0);
            }
            // The keys after the last valid one have P = 0: their v rows are not read.
            // 8 accumulators, pointers stepped (no index arithmetic per row).
            int nv = Math.Min(n, g.LastValid[bh / g.H]);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            float* p = scores, vr = vb, pEnd = scores + (nv & ~7);
            for (; p < pEnd; p += 8, vr += 128)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[0]), Vector512.Load(vr), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[1]), Vector512.Load(vr + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2]), Vector512.Load(vr + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3]), Vector512.Load(vr + 48), a3);
                a4 = Vector512.FusedMultiplyAdd(Vector512.Create(p[4]), Vector512.Load(vr + 64), a4);
                a5 = Vector512.FusedMultiplyAdd(Vector512.Create(p[5]), Vector512.Load(vr + 80), a5);
                a6 = Vector512.FusedMultiplyAdd(Vector512.Create(p[6]), Vector512.Load(vr + 96), a6);
                a7 = Vector512.FusedMultiplyAdd(Vector512.Create(p[7]), Vector512.Load(vr + 112), a7);
            }
            for (pEnd = scores + nv; p < pEnd; p++, vr += 16) a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[0]), Vector512.Load(vr), a0);
            float l = Vector512.Sum(sum);
            ((((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7))) * (1 / l)).Store(o);
            lse[bh] = m + MathF.Log(l);
        }

        // Whether any of the n scores is NaN (a max over NaN and −∞ lanes by VMAXPS can come out −∞).
        private static bool AnyNaN(float* scores, int n)
        {
            for (int j = 0; j < n; j++)
                if (float.IsNaN(scores[j])) return true;
            return false;
        }

        // The max of v's 16 lanes, in every lane (VMAXPS: a NaN lane may or may not win; pass 2 turns it into a NaN output).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> MaxAcross(Vector512<float> v)
        {
            v = Avx512F.Max(v, Avx512F.Shuffle4x128(v, v, 0x4E));
            v = Avx512F.Max(v, Avx512F.Shuffle4x128(v, v, 0xB1));
            v = Avx512F.Max(v, Avx512F.Permute4x32(v, 0x4E));
            return Avx512F.Max(v, Avx512F.Permute4x32(v, 0xB1));
        }

        /// <summary>
        /// Head bh in one pass over its n keys, 16 at a time: P from the saved lse, dP, dS, then the block's
        /// dV and dK rows and its dQ terms; the rows of the keys after them (padding) are written as zeros
        /// in the same pass. buffer: 32 floats, 64-byte aligned (the block's dS and P ⊙ Z).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Backward<TDrop, TStore>(Geometry g, float* q, float* k, float* v, float* bias, Vector512<float>* keyBias, int n, float scale,
            float* output, float* lse, float* gradOut, float* gradQ, float* gradK, float* gradV, float* gradBias, int bh, float* buffer)
            where TDrop : struct where TStore : struct
        {
            int nk = g.Nk;
            float rowLse = lse[bh];
            float* dk = gradK + (long)bh * nk * 16, dv = gradV + (long)bh * nk * 16, db = gradBias is null ? null : gradBias + (long)bh * nk;
            if (float.IsNegativeInfinity(rowLse)) n = 0;
            int full = n & ~15;
            var qv = Vector512.Load(q + bh * 16) * scale;
            var dov = Vector512.Load(gradOut + bh * 16);
            var (qLo, qHi) = Split8(qv);
            var (dLo, dHi) = Split8(dov);
            var delta = Vector512.Create(Vector512.Sum(dov * Vector512.Load(output + bh * 16)));
            var lseV = Vector512.Create(rowLse);
            float* kb = k + (long)bh * nk * 16, vb = v + (long)bh * nk * 16;
            float* br = bias is null ? null : bias + (long)bh * nk;
            uint rowKey = typeof(TDrop) == typeof(WithDropout) ? AttentionDropout.RowKey(g.DropSeed, bh) : 0;
            float* ds = buffer, pz = buffer + 16;
            Vector512<float> dq0 = default, dq1 = default, dq2 = default, dq3 = default;
            // Streamed: the rows go out through line writers (see Put); pk, pv: the previous dK, dV rows.
            var wk = StreamingLineWriter<float>.For(dk);
            var wv = StreamingLineWriter<float>.For(dv);
            Vector512<float> pk = default, pv = default;
            for (int j0 = 0; j0 < full; j0 += 16)
            {
                float* kr = kb + j0 * 16, vr = vb + j0 * 16, dkr = dk + j0 * 16, dvr = dv + j0 * 16;
                var s = Dot16(kr, qLo, qHi) + keyBias[j0 >> 4];
                if (br is not null) s += Vector512.Load(br + j0);
                var p = FastExp.NonPositive(s - lseV);
                var dp = Dot16(vr, dLo, dHi);
                var z = Keep<TDrop>(g, rowKey, j0);
                var dsv = typeof(TDrop) == typeof(WithDropout) ? p * (z * dp - delta) : p * (dp - delta);
                if (db is not null) dsv.Store(db + j0);
                dsv.Store(ds);
                (typeof(TDrop) == typeof(WithDropout) ? p * z : p).Store(pz);
                for (int jj = 0; jj < 16; jj += 4)
                {
                    pv = Put<TStore>(Vector512.Create(pz[jj]) * dov, dvr + jj * 16, pv, wv, j0 + jj == 0);
                    pk = Put<TStore>(Vector512.Create(ds[jj]) * qv, dkr + jj * 16, pk, wk, j0 + jj == 0);
                    dq0 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj]), Vector512.Load(kr + jj * 16), dq0);
                    pv = Put<TStore>(Vector512.Create(pz[jj + 1]) * dov, dvr + (jj + 1) * 16, pv, wv, false);
                    pk = Put<TStore>(Vector512.Create(ds[jj + 1]) * qv, dkr + (jj + 1) * 16, pk, wk, false);
                    dq1 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj + 1]), Vector512.Load(kr + (jj + 1) * 16), dq1);
                    pv = Put<TStore>(Vector512.Create(pz[jj + 2]) * dov, dvr + (jj + 2) * 16, pv, wv, false);
                    pk = Put<TStore>(Vector512.Create(ds[jj + 2]) * qv, dkr + (jj + 2) * 16, pk, wk, false);
                    dq2 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj + 2]), Vector512.Load(kr + (jj + 2) * 16), dq2);
                    pv = Put<TStore>(Vector512.Create(pz[jj + 3]) * dov, dvr + (jj + 3) * 16, pv, wv, false);
                    pk = Put<TStore>(Vector512.Create(ds[jj + 3]) * qv, dkr + (jj + 3) * 16, pk, wk, false);
                    dq3 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj + 3]), Vector512.Load(kr + (jj + 3) * 16), dq3);
                }
            }
            var dq = (dq0 + dq1) + (dq2 + dq3);
            if (full < n)
            {
                // Copies passed by reference, so pk and pv themselves stay enregistered in the loop above.
                Vector512<float> tk = pk, tv = pv;
                dq += BackwardPartialBlock<TDrop, TStore>(g, kb, vb, br, keyBias, full, n - full, qv, dov, delta, lseV, rowKey, dk, dv, db, buffer,
                    ref tk, ref tv);
                (pk, pv) = (tk, tv);
            }
            // Keys after the last looked-at one (padding), or all keys of a row without a valid key: zero gradients.
            for (int j = n; j < nk; j++)
            {
                pk = Put<TStore>(Vector512<float>.Zero, dk + j * 16, pk, wk, j == 0);
                pv = Put<TStore>(Vector512<float>.Zero, dv + j * 16, pv, wv, j == 0);
            }
            if (typeof(TStore) == typeof(Streamed))
            {
                // The last row's part of the line after it (the next head's first row completes that line).
                wk.Finish(dk + nk * 16, pk);
                wv.Finish(dv + nk * 16, pv);
            }
            if (db is not null) new Span<float>(db + n, nk - n).Clear();
            (dq * scale).Store(gradQ + bh * 16);
        }

        // The partial last block of Backward (count < 16 keys from j0 = Nk − count): writes their dK, dV (and
        // dBias) rows and returns their Σ dS_j k_j.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector512<float> BackwardPartialBlock<TDrop, TStore>(Geometry g, float* kb, float* vb, float* br, Vector512<float>* keyBias,
            int j0, int count, Vector512<float> qv, Vector512<float> dov, Vector512<float> delta, Vector512<float> lseV, uint rowKey,
            float* dk, float* dv, float* db, float* buffer, ref Vector512<float> pk, ref Vector512<float> pv) where TDrop : struct where TStore : struct
        {
            var wk = StreamingLineWriter<float>.For(dk);
            var wv = StreamingLineWriter<float>.For(dv);
            var (qLo, qHi) = Split8(qv);
            var (dLo, dHi) = Split8(dov);
            float* kr = kb + j0 * 16, vr = vb + j0 * 16, ds = buffer, pz = buffer + 16;
            var s = Dot16Partial(kr, count, qLo, qHi) + keyBias[j0 >> 4];
            if (br is not null) s += LoadRow(br, j0, j0 + count);
            var p = FastExp.NonPositive(s - lseV);
            var dp = Dot16Partial(vr, count, dLo, dHi);
            var z = Keep<TDrop>(g, rowKey, j0);
            (p * (z * dp - delta)).Store(ds);
            (p * z).Store(pz);
            if (db is not null) new ReadOnlySpan<float>(ds, count).CopyTo(new Span<float>(db + j0, count));
            var dq = Vector512<float>.Zero;
            for (int jj = 0; jj < count; jj++)
            {
                pv = Put<TStore>(Vector512.Create(pz[jj]) * dov, dv + (j0 + jj) * 16, pv, wv, j0 + jj == 0);
                pk = Put<TStore>(Vector512.Create(ds[jj]) * qv, dk + (j0 + jj) * 16, pk, wk, j0 + jj == 0);
                dq = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj]), Vector512.Load(kr + jj * 16), dq);
            }
            return dq;
        }

        /// <summary>
        /// Row x of a head's dK or dV at p; returns x (the next call's prev). Cached: an ordinary store. Streamed:
        /// the rows of a head are one contiguous stretch written through its <see cref="StreamingLineWriter{T}"/>
        /// w (made for the head's first row): each row after the first completes a 64-byte line that goes out
        /// whole with an aligned non-temporal store (no read of the line first); the head's first row (first)
        /// writes only its part of the line before it (the rest of that line belongs to the previous head), and
        /// Backward ends the head with the last row's part of the line after it (w.Finish).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Put<TStore>(Vector512<float> x, float* p, Vector512<float> prev, StreamingLineWriter<float> w, bool first)
            where TStore : struct
        {
            if (typeof(TStore) != typeof(Streamed)) x.Store(p);
            else if (first) w.First(p, x);
            else w.Put(p, prev, x);
            return x;
        }
    }

    /// <summary>Type arguments that select the single-query kernels' dropout code at JIT time.</summary>
    private struct WithDropout;

    /// <inheritdoc cref="WithDropout"/>
    private struct NoDropout;

    /// <summary>Type arguments that select the single-query backward's dK / dV row stores at JIT time: non-temporal or ordinary.</summary>
    private struct Streamed;

    /// <inheritdoc cref="Streamed"/>
    private struct Cached;
}
