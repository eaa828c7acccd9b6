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

    // Work items are whole jets (the H heads of one b share the jet's key mask, computed once per jet).
    private static void SingleQueryForward(Geometry g, Tensor q, Tensor k, Tensor v, float scale, Tensor output, Tensor lse)
    {
        var qa = CpuTensor.Array<T>(q, g.Op);
        var ka = CpuTensor.Array<T>(k, g.Op);
        var va = CpuTensor.Array<T>(v, g.Op);
        var oa = CpuTensor.Array<T>(output, g.Op);
        var la = CpuTensor.Array<T>(lse, g.Op);
        ForEachHead(g.B, (long)g.H * g.Nk * 64, () => new JetScratch(g), (w, b, _) =>
        {
            fixed (T* qp = qa, kp = ka, vp = va, bp = g.Bias, mp = g.Mask, op = oa, lp = la, sp = w.Scores, kbp = w.KeyBias)
            {
                var keyBias = (Vector512<float>*)kbp;
                int n = SingleQueryKernel.JetKeyBias(g, mp is null ? null : (float*)(mp + g.MaskOffset), b, keyBias);
                for (int bh = b * g.H; bh < (b + 1) * g.H; bh++)
                    SingleQueryKernel.Forward(g, (float*)(qp + q.Offset), (float*)(kp + k.Offset), (float*)(vp + v.Offset),
                        bp is null ? null : (float*)(bp + g.BiasOffset), keyBias, n, scale,
                        (float*)(op + output.Offset), (float*)(lp + lse.Offset), bh, (float*)sp);
            }
        });
    }

    private static void SingleQueryBackward(Geometry g, Tensor q, Tensor k, Tensor v, float scale, Gradients gr)
    {
        var qa = CpuTensor.Array<T>(q, g.Op);
        var ka = CpuTensor.Array<T>(k, g.Op);
        var va = CpuTensor.Array<T>(v, g.Op);
        ForEachHead(g.B, (long)g.H * g.Nk * 192, () => new JetScratch(g), (w, b, _) =>
        {
            fixed (T* qp = qa, kp = ka, vp = va, bp = g.Bias, mp = g.Mask, op = gr.Out, lp = gr.Lse, gop = gr.GradOut,
                   gqp = gr.GradQ, gkp = gr.GradK, gvp = gr.GradV, gbp = gr.GradBias, kbp = w.KeyBias)
            {
                var keyBias = (Vector512<float>*)kbp;
                int n = SingleQueryKernel.JetKeyBias(g, mp is null ? null : (float*)(mp + g.MaskOffset), b, keyBias);
                for (int bh = b * g.H; bh < (b + 1) * g.H; bh++)
                    SingleQueryKernel.Backward(g, (float*)(qp + q.Offset), (float*)(kp + k.Offset), (float*)(vp + v.Offset),
                        bp is null ? null : (float*)(bp + g.BiasOffset), keyBias, n, scale,
                        (float*)(op + gr.OutOffset), (float*)(lp + gr.LseOffset), (float*)(gop + gr.GradOutOffset),
                        (float*)(gqp + gr.GradQOffset), (float*)(gkp + gr.GradKOffset), (float*)(gvp + gr.GradVOffset),
                        gbp is null ? null : (float*)(gbp + gr.GradBiasOffset), bh);
            }
        });
    }

    /// <summary>One single-query worker's pooled scratch: a row of scores and the current jet's key-bias blocks.</summary>
    private sealed class JetScratch(Geometry g) : IDisposable
    {
        // Keys looked at are rounded up to whole 16-key blocks; +16 keeps a 64-byte aligned start reachable.
        public T[] Scores { get; } = System.Buffers.ArrayPool<T>.Shared.Rent(g.Nk + 32);

        /// <summary>(Nk + 15) / 16 vectors of 0 / −∞ (+16 floats of slack for alignment).</summary>
        public T[] KeyBias { get; } = System.Buffers.ArrayPool<T>.Shared.Rent(g.Nk + 32);

        public void Dispose()
        {
            System.Buffers.ArrayPool<T>.Shared.Return(Scores);
            System.Buffers.ArrayPool<T>.Shared.Return(KeyBias);
        }
    }

    /// <summary>
    /// Class attention, one query per (b, h) over Nk keys, float32 with D = 16 = one Vector512 per key
    /// row. Scores of 16 keys at a time: the 16 products q ⊙ k_j are reduced to one vector of 16 dot
    /// products by <see cref="Sum16"/> (a transpose-and-add tree), so k is read in place, never packed.
    /// Forward: s = scale·q·k + bias + mask over the keys up to the jet's last valid one, exact
    /// max, P = e^{s − m}, l = Σ P, out = Σ_j (P ⊙ Z)_j v_j / l, lse = m + log l.
    /// Backward (P recomputed from lse, Δ = dO·O): dp_j = dO·v_j, dS = P ⊙ (Z ⊙ dp − Δ),
    /// dV_j = (P ⊙ Z)_j dO, dK_j = dS_j · scale·q, dQ = scale·Σ_j dS_j k_j, dBias = dS; keys after the
    /// last valid one get zero gradients (written in the same pass as the valid keys' rows).
    /// Thread mapping: whole jets (b, all H heads) are claimed dynamically by one worker per core; the jet's
    /// key-bias blocks (mask and last valid key) are built once and shared by its heads. Every output
    /// element is written by one worker in a fixed order: deterministic.
    /// </summary>
    private static class SingleQueryKernel
    {
        private static readonly Vector512<int> Lo8 = Control(8, false), Hi8 = Control(8, true), Lo4 = Control(4, false), Hi4 = Control(4, true),
            Lo2 = Control(2, false), Hi2 = Control(2, true), Lo1 = Control(1, false), Hi1 = Control(1, true);

        // VPERMT2PS indices of one round: lanes with bit b take the second operand (see Sum16).
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

        // lane j of the result = Σ_c x_j[c]: round b pairs rows i, i | b and keeps, per lane, the half
        // sums of the row whose index has the lane's bit b; after b = 8, 4, 2, 1 lane j holds row j.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Sum16(float* rows, Vector512<float> f, int count)
        {
            Vector512<float> R(int i) => i < count ? Vector512.Load(rows + i * 16) * f : Vector512<float>.Zero;
            var y0 = Pair(R(0), R(8), Lo8, Hi8);
            var y1 = Pair(R(1), R(9), Lo8, Hi8);
            var y2 = Pair(R(2), R(10), Lo8, Hi8);
            var y3 = Pair(R(3), R(11), Lo8, Hi8);
            var y4 = Pair(R(4), R(12), Lo8, Hi8);
            var y5 = Pair(R(5), R(13), Lo8, Hi8);
            var y6 = Pair(R(6), R(14), Lo8, Hi8);
            var y7 = Pair(R(7), R(15), Lo8, Hi8);
            return Fold8(y0, y1, y2, y3, y4, y5, y6, y7);
        }

        // The last three levels of the Sum16 reduction tree, shared by both forms.
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

        // Sum16 over a whole block of 16 rows (no tail checks).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Sum16Full(float* r, Vector512<float> f)
        {
            var y0 = Pair(Vector512.Load(r) * f, Vector512.Load(r + 128) * f, Lo8, Hi8);
            var y1 = Pair(Vector512.Load(r + 16) * f, Vector512.Load(r + 144) * f, Lo8, Hi8);
            var y2 = Pair(Vector512.Load(r + 32) * f, Vector512.Load(r + 160) * f, Lo8, Hi8);
            var y3 = Pair(Vector512.Load(r + 48) * f, Vector512.Load(r + 176) * f, Lo8, Hi8);
            var y4 = Pair(Vector512.Load(r + 64) * f, Vector512.Load(r + 192) * f, Lo8, Hi8);
            var y5 = Pair(Vector512.Load(r + 80) * f, Vector512.Load(r + 208) * f, Lo8, Hi8);
            var y6 = Pair(Vector512.Load(r + 96) * f, Vector512.Load(r + 224) * f, Lo8, Hi8);
            var y7 = Pair(Vector512.Load(r + 112) * f, Vector512.Load(r + 240) * f, Lo8, Hi8);
            return Fold8(y0, y1, y2, y3, y4, y5, y6, y7);
        }

        // Scores of keys j0 … j0 + 15 (count of them exist in the block) for the scaled query qv.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Dot16(float* rows, Vector512<float> qv, int count) =>
            count == 16 ? Sum16Full(rows, qv) : Sum16(rows, qv, count);

        // 16 entries of a length-n row from j0 (zeros past n), by a masked load.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> LoadRow(float* row, int j0, int n)
        {
            if (j0 + 16 <= n) return Vector512.Load(row + j0);
            var inside = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - j0)).AsSingle();
            return Avx512F.MaskLoad(row + j0, inside, Vector512<float>.Zero);
        }

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

        /// <summary>
        /// Head bh: pass 1 scores the n keys (k read in place) into `scores` and takes their max; pass 2
        /// exponentiates a block of 16 and accumulates its P·V rows at once (the block's v rows right after).
        /// </summary>
        public static void Forward(Geometry g, float* q, float* k, float* v, float* bias, Vector512<float>* keyBias, int n, float scale,
            float* output, float* lse, int bh, float* scores)
        {
            int nk = g.Nk;
            float* o = output + bh * 16;
            var qv = Vector512.Load(q + bh * 16) * scale;
            float* kb = k + (long)bh * nk * 16, vb = v + (long)bh * nk * 16;
            float* br = bias is null ? null : bias + (long)bh * nk;
            var maxv = Vector512.Create(float.NegativeInfinity);
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                var s = Dot16(kb + j0 * 16, qv, Math.Min(16, n - j0)) + keyBias[j0 / 16];
                if (br is not null) s += LoadRow(br, j0, nk);
                s.Store(scores + j0);
                maxv = Vector512.Max(maxv, s);
            }
            float m = HorizontalMax(maxv);
            if (float.IsNegativeInfinity(m))
            {
                Vector512<float>.Zero.Store(o);
                lse[bh] = float.NegativeInfinity;
                return;
            }
            var shift = Vector512.Create(m);
            uint rowKey = g.Dropout ? AttentionDropout.RowKey(g.DropSeed, bh) : 0;
            Vector512<float> sum = Vector512<float>.Zero, a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                float* e = scores + j0, vr = vb + j0 * 16;
                var ev = FastExp.NonPositive(Vector512.Load(e) - shift);
                sum += ev;
                if (g.Dropout) ev *= KeepFactors(rowKey, j0, g.DropThreshold, g.KeepScale).As<T, float>();
                ev.Store(e);
                if (j0 + 16 <= n)
                {
                    for (int jj = 0; jj < 16; jj += 4)
                    {
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(e[jj]), Vector512.Load(vr + jj * 16), a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(e[jj + 1]), Vector512.Load(vr + (jj + 1) * 16), a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Create(e[jj + 2]), Vector512.Load(vr + (jj + 2) * 16), a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Create(e[jj + 3]), Vector512.Load(vr + (jj + 3) * 16), a3);
                    }
                }
                else
                {
                    for (int jj = 0; jj < n - j0; jj++) a0 = Vector512.FusedMultiplyAdd(Vector512.Create(e[jj]), Vector512.Load(vr + jj * 16), a0);
                }
            }
            float l = Vector512.Sum(sum);
            (((a0 + a1) + (a2 + a3)) * (1 / l)).Store(o);
            lse[bh] = m + MathF.Log(l);
        }

        /// <summary>
        /// Head bh in one pass over its n keys, 16 at a time: P from the saved lse, dP, dS, then the block's
        /// dV and dK rows and its dQ terms; the rows of the keys after them (padding) are written as zeros
        /// in the same pass.
        /// </summary>
        public static void Backward(Geometry g, float* q, float* k, float* v, float* bias, Vector512<float>* keyBias, int n, float scale,
            float* output, float* lse, float* gradOut, float* gradQ, float* gradK, float* gradV, float* gradBias, int bh)
        {
            int nk = g.Nk;
            float rowLse = lse[bh];
            float* dk = gradK + (long)bh * nk * 16, dv = gradV + (long)bh * nk * 16, db = gradBias is null ? null : gradBias + (long)bh * nk;
            if (float.IsNegativeInfinity(rowLse)) n = 0;
            var qv = Vector512.Load(q + bh * 16) * scale;
            var dov = Vector512.Load(gradOut + bh * 16);
            var delta = Vector512.Create(Vector512.Sum(dov * Vector512.Load(output + bh * 16)));
            var lseV = Vector512.Create(rowLse);
            float* kb = k + (long)bh * nk * 16, vb = v + (long)bh * nk * 16;
            float* br = bias is null ? null : bias + (long)bh * nk;
            uint rowKey = g.Dropout ? AttentionDropout.RowKey(g.DropSeed, bh) : 0;
            var ds = stackalloc float[16];
            var pz = stackalloc float[16];
            Vector512<float> dq0 = default, dq1 = default;
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                int count = Math.Min(16, n - j0);
                float* kr = kb + j0 * 16, vr = vb + j0 * 16, dkr = dk + j0 * 16, dvr = dv + j0 * 16;
                var s = Dot16(kr, qv, count) + keyBias[j0 / 16];
                if (br is not null) s += LoadRow(br, j0, nk);
                var p = FastExp.NonPositive(s - lseV);
                var dp = Dot16(vr, dov, count);
                if (g.Dropout)
                {
                    var z = KeepFactors(rowKey, j0, g.DropThreshold, g.KeepScale).As<T, float>();
                    (p * (z * dp - delta)).Store(ds);
                    (p * z).Store(pz);
                }
                else
                {
                    (p * (dp - delta)).Store(ds);
                    p.Store(pz);
                }
                if (db is not null) new ReadOnlySpan<float>(ds, count).CopyTo(new Span<float>(db + j0, count));
                int jj = 0;
                for (; jj + 2 <= count; jj += 2)
                {
                    (Vector512.Create(pz[jj]) * dov).Store(dvr + jj * 16);
                    (Vector512.Create(pz[jj + 1]) * dov).Store(dvr + (jj + 1) * 16);
                    (Vector512.Create(ds[jj]) * qv).Store(dkr + jj * 16);
                    (Vector512.Create(ds[jj + 1]) * qv).Store(dkr + (jj + 1) * 16);
                    dq0 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj]), Vector512.Load(kr + jj * 16), dq0);
                    dq1 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj + 1]), Vector512.Load(kr + (jj + 1) * 16), dq1);
                }
                if (jj < count)
                {
                    (Vector512.Create(pz[jj]) * dov).Store(dvr + jj * 16);
                    (Vector512.Create(ds[jj]) * qv).Store(dkr + jj * 16);
                    dq0 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj]), Vector512.Load(kr + jj * 16), dq0);
                }
            }
            // Keys after the last looked-at one (padding), or all keys of a row without a valid key: zero gradients.
            for (int j = n; j < nk; j++)
            {
                Vector512<float>.Zero.Store(dk + j * 16);
                Vector512<float>.Zero.Store(dv + j * 16);
            }
            if (db is not null) new Span<float>(db + n, nk - n).Clear();
            ((dq0 + dq1) * scale).Store(gradQ + bh * 16);
        }

        private static float HorizontalMax(Vector512<float> v)
        {
            var h = Vector256.Max(v.GetLower(), v.GetUpper());
            var h2 = Vector128.Max(h.GetLower(), h.GetUpper());
            h2 = Vector128.Max(h2, Vector128.Shuffle(h2, Vector128.Create(2, 3, 0, 1)));
            return MathF.Max(h2.ToScalar(), h2.GetElement(1));
        }
    }
}
