using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Gemm;

/// <summary>
/// Cache-blocked, packed float32 GEMM (GotoBLAS loop order): for each NC column block and KC depth
/// block, B is packed once into NR-wide k-major panels (L2/L3 resident); M is split into MC row blocks
/// whose A panels (MR-tall, k-major, L2 resident) are packed per worker; the micro-kernel sweeps
/// B panels (outer, L1) × A panels (inner). Strided operands are read only during packing.
/// Threads: many small matrices → one matrix per worker; few large ones → row blocks per worker.
/// Every C element is produced by one worker in a fixed k order: deterministic.
/// </summary>
internal static unsafe class Sgemm
{
    private const int KC = 256;
    private const int NC = 2048;

    private static readonly bool Wide = Avx512F.IsSupported;
    public static int MR { get; } = Wide ? 8 : 6;
    public static int NR { get; } = Wide ? 32 : 16;
    private static readonly int MC = Wide ? 128 : 96;

    /// <summary>c[b] = a[b]·b[b] (+ c[b] when accumulate) for batch matrices of (m×k)·(k×n); c contiguous.</summary>
    public static void Run(int batch, int m, int n, int k, GemmOperand<float> a, GemmOperand<float> b, float[] c, int cOffset, bool accumulate)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        if (k == 0)
        {
            if (!accumulate) c.AsSpan(cOffset, batch * m * n).Clear();
            return;
        }
        long flopsPerMatrix = (long)m * n * k;
        if (batch >= CpuParallel.Threads || flopsPerMatrix < (1 << 18))
        {
            CpuParallel.For(batch, flopsPerMatrix, (s, e) =>
            {
                for (int i = s; i < e; i++) Single(i, m, n, k, a, b, c, cOffset + i * m * n, accumulate, parallel: false);
            });
            return;
        }
        for (int i = 0; i < batch; i++) Single(i, m, n, k, a, b, c, cOffset + i * m * n, accumulate, parallel: true);
    }

    private static void Single(int bi, int m, int n, int k, GemmOperand<float> a, GemmOperand<float> b, float[] c, int cOff, bool accumulate, bool parallel)
    {
        int mr = MR, nr = NR;
        int ncMax = Math.Min(NC, RoundUp(n, nr));
        int kcMax = Math.Min(KC, k);
        var packB = ArrayPool<float>.Shared.Rent(ncMax * kcMax);
        try
        {
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    PackB(b, bi, pc, kc, jc, nc, packB);
                    bool acc = accumulate || pc > 0;
                    int mc = MC;
                    int workers = parallel ? CpuParallel.Threads : 1;
                    if (parallel && (m + MC - 1) / MC < workers) mc = Math.Max(mr, RoundUp((m + workers - 1) / workers, mr));
                    int blocks = (m + mc - 1) / mc;
                    int jcLocal = jc, pcLocal = pc;
                    void Body(int s, int e)
                    {
                        var packA = ArrayPool<float>.Shared.Rent(mc * kc);
                        try
                        {
                            for (int blk = s; blk < e; blk++)
                            {
                                int ic = blk * mc;
                                int mcb = Math.Min(mc, m - ic);
                                PackA(a, bi, ic, mcb, pcLocal, kc, packA);
                                Macro(mcb, nc, kc, packA, packB, c, cOff + ic * n + jcLocal, n, acc);
                            }
                        }
                        finally
                        {
                            ArrayPool<float>.Shared.Return(packA);
                        }
                    }
                    if (parallel && blocks > 1) CpuParallel.For(blocks, (long)mc * nc * kc, Body);
                    else Body(0, blocks);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packB);
        }
    }

    // Sweeps the packed block: B panels outer (stay in L1), A panels inner.
    private static void Macro(int mc, int nc, int kc, float[] packA, float[] packB, float[] c, int cOff, int ldc, bool accumulate)
    {
        int mr = MR, nr = NR;
        fixed (float* pa = packA, pb = packB, pcBase = c)
        {
            for (int jr = 0; jr < nc; jr += nr)
            {
                int nrb = Math.Min(nr, nc - jr);
                float* bPanel = pb + (long)jr * kc;
                for (int ir = 0; ir < mc; ir += mr)
                {
                    int mrb = Math.Min(mr, mc - ir);
                    float* aPanel = pa + (long)ir * kc;
                    float* cTile = pcBase + cOff + (long)ir * ldc + jr;
                    if (Wide) SgemmKernels.Kernel8x32(kc, aPanel, bPanel, cTile, ldc, accumulate, mrb, nrb);
                    else SgemmKernels.Kernel6x16(kc, aPanel, bPanel, cTile, ldc, accumulate, mrb, nrb);
                }
            }
        }
    }

    // packA[(panel·kc + p)·MR + r] = A[ic + panel·MR + r, pc + p], zero-padded past mc.
    private static void PackA(GemmOperand<float> a, int bi, int ic, int mc, int pc, int kc, float[] packA)
    {
        int mr = MR;
        var src = a.Data;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            int dst = ir * kc;
            if (rows == 8 && mr == 8 && Avx.IsSupported && (a.ColStride == 1 || a.RowStride == 1))
            {
                fixed (float* ps = src, pd = packA)
                {
                    if (a.ColStride == 1) PackRows8(ps + a.Index(bi, ic + ir, pc), a.RowStride, kc, pd + dst);
                    else PackColumns8(ps, a, bi, ic + ir, pc, kc, pd + dst);
                }
                continue;
            }
            if (a.ColStride == 1)
            {
                for (int r = 0; r < rows; r++)
                {
                    int s = a.Index(bi, ic + ir + r, pc);
                    for (int p = 0; p < kc; p++) packA[dst + p * mr + r] = src[s + p];
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    int s = a.Index(bi, ic + ir, pc + p);
                    for (int r = 0; r < rows; r++) packA[dst + p * mr + r] = src[s + r * a.RowStride];
                }
            }
            if (rows < mr)
            {
                for (int p = 0; p < kc; p++)
                    for (int r = rows; r < mr; r++) packA[dst + p * mr + r] = 0;
            }
        }
    }

    // One full 8-row panel of a row-major A (rows `ld` apart): 8×8 blocks transposed in registers
    // (unpack → shuffle → 128-bit lane permute), so dst[p·8 + r] = src[r·ld + p].
    private static void PackRows8(float* src, int ld, int kc, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            float* s = src + p;
            var r0 = Avx.LoadVector256(s);
            var r1 = Avx.LoadVector256(s + ld);
            var r2 = Avx.LoadVector256(s + 2 * ld);
            var r3 = Avx.LoadVector256(s + 3 * ld);
            var r4 = Avx.LoadVector256(s + 4 * ld);
            var r5 = Avx.LoadVector256(s + 5 * ld);
            var r6 = Avx.LoadVector256(s + 6 * ld);
            var r7 = Avx.LoadVector256(s + 7 * ld);
            // t: pairs of rows interleaved; u: columns c | c + 4 of rows 0–3 (u0–u3) and 4–7 (u4–u7).
            var t0 = Avx.UnpackLow(r0, r1);
            var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7);
            var t7 = Avx.UnpackHigh(r6, r7);
            var u0 = Avx.Shuffle(t0, t2, 0x44);
            var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44);
            var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44);
            var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44);
            var u7 = Avx.Shuffle(t5, t7, 0xEE);
            float* d = dst + p * 8;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(d + 8, Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(d + 16, Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(d + 24, Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(d + 32, Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(d + 40, Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(d + 48, Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(d + 56, Avx.Permute2x128(u3, u7, 0x31));
        }
        for (; p < kc; p++)
        {
            for (int r = 0; r < 8; r++) dst[p * 8 + r] = src[(long)r * ld + p];
        }
    }

    // One full 8-row panel of an A whose rows are adjacent (a transposed view): one 8-float copy per p.
    private static void PackColumns8(float* src, GemmOperand<float> a, int bi, int row, int pc, int kc, float* dst)
    {
        for (int p = 0; p < kc; p++) Avx.Store(dst + p * 8, Avx.LoadVector256(src + a.Index(bi, row, pc + p)));
    }

    // packB[(panel·kc + p)·NR + j] = B[pc + p, jc + panel·NR + j], zero-padded past nc.
    private static void PackB(GemmOperand<float> b, int bi, int pc, int kc, int jc, int nc, float[] packB)
    {
        int nr = NR;
        var src = b.Data;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            int dst = jr * kc;
            for (int p = 0; p < kc; p++)
            {
                int s = b.Index(bi, pc + p, jc + jr);
                var row = packB.AsSpan(dst + p * nr, nr);
                if (b.ColStride == 1) src.AsSpan(s, cols).CopyTo(row);
                else for (int j = 0; j < cols; j++) row[j] = src[s + j * b.ColStride];
                if (cols < nr) row[cols..].Clear();
            }
        }
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;
}
