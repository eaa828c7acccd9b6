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

    private static void SingleQueryForward(Geometry g, Tensor q, Tensor k, Tensor v, float scale, Tensor output, Tensor lse)
    {
        var qa = CpuTensor.Array<T>(q, g.Op);
        var ka = CpuTensor.Array<T>(k, g.Op);
        var va = CpuTensor.Array<T>(v, g.Op);
        var oa = CpuTensor.Array<T>(output, g.Op);
        var la = CpuTensor.Array<T>(lse, g.Op);
        ForEachHead(g.B * g.H, (long)g.Nk * 64, () => new ScoreRow(g.KeyStride), (w, bh, nextBh) =>
        {
            fixed (T* qp = qa, kp = ka, vp = va, bp = g.Bias, mp = g.Mask, op = oa, lp = la, sp = w.Scores)
            {
                PrefetchHead(g, (float*)(kp + k.Offset), (float*)(vp + v.Offset), nextBh);
                SingleQueryKernel.Forward(g, (float*)(qp + q.Offset), (float*)(kp + k.Offset), (float*)(vp + v.Offset),
                    bp is null ? null : (float*)(bp + g.BiasOffset), mp is null ? null : (float*)(mp + g.MaskOffset), scale,
                    (float*)(op + output.Offset), (float*)(lp + lse.Offset), bh, (float*)sp);
            }
        }, chunk: g.H);
    }

    private static void SingleQueryBackward(Geometry g, Tensor q, Tensor k, Tensor v, float scale, Gradients gr)
    {
        var qa = CpuTensor.Array<T>(q, g.Op);
        var ka = CpuTensor.Array<T>(k, g.Op);
        var va = CpuTensor.Array<T>(v, g.Op);
        ForEachHead(g.B * g.H, (long)g.Nk * 128, () => new ScoreRow(0), (_, bh, nextBh) =>
        {
            fixed (T* qp = qa, kp = ka, vp = va, bp = g.Bias, mp = g.Mask, op = gr.Out, lp = gr.Lse, gop = gr.GradOut,
                   gqp = gr.GradQ, gkp = gr.GradK, gvp = gr.GradV, gbp = gr.GradBias)
            {
                PrefetchHead(g, (float*)(kp + k.Offset), (float*)(vp + v.Offset), nextBh);
                SingleQueryKernel.Backward(g, (float*)(qp + q.Offset), (float*)(kp + k.Offset), (float*)(vp + v.Offset),
                    bp is null ? null : (float*)(bp + g.BiasOffset), mp is null ? null : (float*)(mp + g.MaskOffset), scale,
                    (float*)(op + gr.OutOffset), (float*)(lp + gr.LseOffset), (float*)(gop + gr.GradOutOffset),
                    (float*)(gqp + gr.GradQOffset), (float*)(gkp + gr.GradKOffset), (float*)(gvp + gr.GradVOffset),
                    gbp is null ? null : (float*)(gbp + gr.GradBiasOffset), bh);
            }
        }, chunk: g.H);
    }

    // Prefetches into L2 the k and v rows (one cache line each for D = 16) of the keys head nextBh looks at
    // (up to its jet's last valid key), while the current head is worked on: the k/v streams skip the padded
    // keys, so they restart at every head.
    private static void PrefetchHead(Geometry g, float* k, float* v, int nextBh)
    {
        if (nextBh < 0) return;
        int n = Math.Min((g.LastValid[nextBh / g.H] + 15) / 16 * 16, g.Nk);
        byte* kb = (byte*)(k + (long)nextBh * g.Nk * 16), vb = (byte*)(v + (long)nextBh * g.Nk * 16);
        for (int j = 0; j < n; j++)
        {
            Sse.Prefetch1(kb + j * 64);
            Sse.Prefetch1(vb + j * 64);
        }
    }

    /// <summary>A pooled row of Nk' scores (one per single-query worker).</summary>
    private sealed class ScoreRow(int length) : IDisposable
    {
        public T[] Scores { get; } = System.Buffers.ArrayPool<T>.Shared.Rent(Math.Max(length, 1));

        public void Dispose() => System.Buffers.ArrayPool<T>.Shared.Return(Scores);
    }

    /// <summary>
    /// Class attention, one query per (b, h) over Nk keys, float32 with D = 16 = one Vector512 per key
    /// row. Scores of 16 keys at a time: the 16 products q ⊙ k_j are reduced to one vector of 16 dot
    /// products by <see cref="Sum16"/> (a transpose-and-add tree), so k is read in place, never packed.
    /// Forward: s = scale·q·k + bias + mask over the keys up to the jet's last valid one, exact
    /// max, P = e^{s − m}, l = Σ P, out = Σ_j (P ⊙ Z)_j v_j / l, lse = m + log l.
    /// Backward (P recomputed from lse, Δ = dO·O): dp_j = dO·v_j, dS = P ⊙ (Z ⊙ dp − Δ),
    /// dV_j = (P ⊙ Z)_j dO, dK_j = dS_j · scale·q, dQ = scale·Σ_j dS_j k_j, dBias = dS; keys after the
    /// last valid one get zero gradients. One worker per (b, h), fixed order: deterministic.
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
            var z0 = Pair(y0, y4, Lo4, Hi4);
            var z1 = Pair(y1, y5, Lo4, Hi4);
            var z2 = Pair(y2, y6, Lo4, Hi4);
            var z3 = Pair(y3, y7, Lo4, Hi4);
            return Pair(Pair(z0, z2, Lo2, Hi2), Pair(z1, z3, Lo2, Hi2), Lo1, Hi1);
        }

        // 16 entries of a length-n row from j0 (zeros past n).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> LoadRow(float* row, int j0, int n)
        {
            if (j0 + 16 <= n) return Vector512.Load(row + j0);
            var tail = stackalloc float[16];
            new Span<float>(tail, 16).Clear();
            new ReadOnlySpan<float>(row + j0, n - j0).CopyTo(new Span<float>(tail, 16));
            return Vector512.Load(tail);
        }

        // 0 for valid keys before `last`, −∞ otherwise, for keys j0 … j0 + 15 of a jet's mask row.
        private static Vector512<float> KeyBias(float* maskRow, int j0, int last)
        {
            var valid = Vector512.LessThan(Vector512<int>.Indices + Vector512.Create(j0), Vector512.Create(last));
            if (maskRow is not null) valid &= ~Vector512.Equals(LoadRow(maskRow, j0, last), Vector512<float>.Zero).AsInt32();
            return Vector512.ConditionalSelect(valid.AsSingle(), Vector512<float>.Zero, Vector512.Create(float.NegativeInfinity));
        }

        public static void Forward(Geometry g, float* q, float* k, float* v, float* bias, float* mask, float scale, float* output, float* lse, int bh, float* scores)
        {
            int nk = g.Nk, b = bh / g.H, last = g.LastValid[b];
            float* o = output + bh * 16;
            if (last == 0)
            {
                Vector512<float>.Zero.Store(o);
                lse[bh] = float.NegativeInfinity;
                return;
            }
            int n = Math.Min((last + 15) / 16 * 16, nk);   // keys looked at
            var qv = Vector512.Load(q + bh * 16) * scale;
            float* kb = k + (long)bh * nk * 16, vb = v + (long)bh * nk * 16;
            float* br = bias is null ? null : bias + (long)bh * nk, mr = mask is null ? null : mask + b * nk;
            var maxv = Vector512.Create(float.NegativeInfinity);
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                var s = Sum16(kb + j0 * 16, qv, n - j0) + KeyBias(mr, j0, last);
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
            var sum = Vector512<float>.Zero;
            var shift = Vector512.Create(m);
            uint rowKey = g.Dropout ? AttentionDropout.RowKey(g.DropSeed, bh) : 0;
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                var e = FastExp.NonPositive(Vector512.Load(scores + j0) - shift);
                sum += e;
                if (g.Dropout) e *= KeepFactors(rowKey, j0, g.DropThreshold, g.KeepScale).As<T, float>();
                e.Store(scores + j0);
            }
            float l = Vector512.Sum(sum);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(scores[j]), Vector512.Load(vb + j * 16), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(scores[j + 1]), Vector512.Load(vb + (j + 1) * 16), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(scores[j + 2]), Vector512.Load(vb + (j + 2) * 16), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(scores[j + 3]), Vector512.Load(vb + (j + 3) * 16), a3);
            }
            for (; j < n; j++) a0 = Vector512.FusedMultiplyAdd(Vector512.Create(scores[j]), Vector512.Load(vb + j * 16), a0);
            (((a0 + a1) + (a2 + a3)) * (1 / l)).Store(o);
            lse[bh] = m + MathF.Log(l);
        }

        public static void Backward(Geometry g, float* q, float* k, float* v, float* bias, float* mask, float scale,
            float* output, float* lse, float* gradOut, float* gradQ, float* gradK, float* gradV, float* gradBias, int bh)
        {
            int nk = g.Nk, b = bh / g.H, last = g.LastValid[b];
            float rowLse = lse[bh];
            float* dk = gradK + (long)bh * nk * 16, dv = gradV + (long)bh * nk * 16, db = gradBias is null ? null : gradBias + (long)bh * nk;
            int n = float.IsNegativeInfinity(rowLse) ? 0 : Math.Min((last + 15) / 16 * 16, nk);
            var qv = Vector512.Load(q + bh * 16) * scale;
            var dov = Vector512.Load(gradOut + bh * 16);
            float delta = Vector512.Sum(dov * Vector512.Load(output + bh * 16));
            float* kb = k + (long)bh * nk * 16, vb = v + (long)bh * nk * 16;
            float* br = bias is null ? null : bias + (long)bh * nk, mr = mask is null ? null : mask + b * nk;
            uint rowKey = g.Dropout ? AttentionDropout.RowKey(g.DropSeed, bh) : 0;
            var ds = stackalloc float[16];
            var pz = stackalloc float[16];
            Vector512<float> dq0 = default, dq1 = default;
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                int count = Math.Min(16, n - j0);
                var s = Sum16(kb + j0 * 16, qv, count) + KeyBias(mr, j0, last);
                if (br is not null) s += LoadRow(br, j0, nk);
                var p = FastExp.NonPositive(s - Vector512.Create(rowLse));
                var dp = Sum16(vb + j0 * 16, dov, count);
                var z = g.Dropout ? KeepFactors(rowKey, j0, g.DropThreshold, g.KeepScale).As<T, float>() : Vector512<float>.One;
                (p * (z * dp - Vector512.Create(delta))).Store(ds);
                (p * z).Store(pz);
                if (db is not null) new ReadOnlySpan<float>(ds, count).CopyTo(new Span<float>(db + j0, count));
                int jj = 0;
                for (; jj + 2 <= count; jj += 2)
                {
                    int j = j0 + jj;
                    (Vector512.Create(pz[jj]) * dov).Store(dv + j * 16);
                    (Vector512.Create(pz[jj + 1]) * dov).Store(dv + (j + 1) * 16);
                    (Vector512.Create(ds[jj]) * qv).Store(dk + j * 16);
                    (Vector512.Create(ds[jj + 1]) * qv).Store(dk + (j + 1) * 16);
                    dq0 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj]), Vector512.Load(kb + j * 16), dq0);
                    dq1 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj + 1]), Vector512.Load(kb + (j + 1) * 16), dq1);
                }
                if (jj < count)
                {
                    int j = j0 + jj;
                    (Vector512.Create(pz[jj]) * dov).Store(dv + j * 16);
                    (Vector512.Create(ds[jj]) * qv).Store(dk + j * 16);
                    dq0 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[jj]), Vector512.Load(kb + j * 16), dq0);
                }
            }
            // Keys after the last looked-at one (padding), or all keys of a row without a valid key: zero gradients.
            new Span<float>(dk + n * 16, (nk - n) * 16).Clear();
            new Span<float>(dv + n * 16, (nk - n) * 16).Clear();
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
