using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
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
/// <see cref="RunBatchSum"/> (c = Σ_b a[b]·b[b], the weight gradient of a layer applied per jet) gives
/// each worker a contiguous range of the batch, accumulated into its own (m×n) partial in batch order;
/// the partials are added to c in worker order afterwards (deterministic for a given core count).
/// </summary>
internal static unsafe class Sgemm
{
    private const int KC = 256;
    private const int NC = 2048;

    private static readonly bool Wide = Avx512F.IsSupported;
    public static int MR { get; } = Wide ? 8 : 6;
    public static int NR { get; } = Wide ? 32 : 16;
    private static readonly int MC = Wide ? 128 : 96;

    /// <summary>
    /// c[b] = a[b]·b[b] (+ c[b] when accumulate) for batch matrices of (m×k)·(k×n); c contiguous. With an
    /// epilogue, each element of the final sum becomes act(v·scale[row] + shift[row] + bias[col]) in the
    /// micro-kernel's store of the last K block (k = 0: the epilogue of 0).
    /// </summary>
    public static void Run(int batch, int m, int n, int k, GemmOperand<float> a, GemmOperand<float> b, float[] c, int cOffset, bool accumulate,
        SgemmEpilogue? epilogue = null)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        if (k == 0)
        {
            if (!accumulate) c.AsSpan(cOffset, batch * m * n).Clear();
            if (epilogue is { } e0) EmptyProductEpilogue(batch, m, n, c, cOffset, e0);
            return;
        }
        long flopsPerMatrix = (long)m * n * k;
        if (batch >= CpuParallel.Threads || flopsPerMatrix < (1 << 18))
        {
            CpuParallel.For(batch, flopsPerMatrix, (s, e) =>
            {
                for (int i = s; i < e; i++) Single(i, m, n, k, a, b, c, cOffset + i * m * n, accumulate, parallel: false, epilogue);
            });
            return;
        }
        for (int i = 0; i < batch; i++) Single(i, m, n, k, a, b, c, cOffset + i * m * n, accumulate, parallel: true, epilogue);
    }

    // k = 0 (no K block reaches the kernel): the epilogue of the stored values, one row at a time through
    // the same vector code (a one-row GEMM against a zero column would be the alternative).
    private static void EmptyProductEpilogue(int batch, int m, int n, float[] c, int cOffset, SgemmEpilogue e)
    {
        for (int row = 0; row < batch * m; row++)
        {
            int i = row % m;
            var span = c.AsSpan(cOffset + row * n, n);
            for (int j = 0; j < n; j++)
            {
                float v = span[j] * (e.RowScale is null ? 1f : e.RowScale[e.RowScaleOffset + i])
                    + ((e.RowShift is null ? 0f : e.RowShift[e.RowShiftOffset + i]) + (e.ColumnBias is null ? 0f : e.ColumnBias[e.ColumnBiasOffset + j]));
                span[j] = e.Activation switch
                {
                    Hep.Engine.Ops.GemmActivation.Relu => MathF.Max(v, 0f),
                    Hep.Engine.Ops.GemmActivation.Gelu => v * 0.5f * (1f + (float)Hep.Engine.Ops.Erf.Evaluate(v * 0.70710678118654752440)),
                    _ => v,
                };
            }
        }
    }

    /// <summary>
    /// c = Σ_b a[b]·b[b] (+ c when accumulate) over batch matrices of (m×k)·(k×n); c one contiguous (m×n)
    /// matrix. Replaces a (batch, m, n) temporary and its sum over the batch.
    /// </summary>
    public static void RunBatchSum(int batch, int m, int n, int k, GemmOperand<float> a, GemmOperand<float> b, float[] c, int cOffset, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        if (batch == 0 || k == 0)
        {
            if (!accumulate) c.AsSpan(cOffset, m * n).Clear();
            return;
        }
        long flopsPerMatrix = (long)m * n * k;
        int workers = (int)Math.Min(Math.Min(CpuParallel.Threads, batch), Math.Max(1, batch * flopsPerMatrix / (1 << 20)));
        if (workers <= 1)
        {
            bool parallel = flopsPerMatrix >= (1 << 18);
            for (int i = 0; i < batch; i++) Single(i, m, n, k, a, b, c, cOffset, accumulate || i > 0, parallel);
            return;
        }
        int size = m * n;
        // Every partial element is written before it is read (each worker's first product overwrites).
        var partials = CpuArrayPool<float>.Rent((workers - 1) * size, clear: false);
        try
        {
            // Worker 0 accumulates straight into c; worker w > 0 into partials[(w − 1)·size ..].
            CpuParallel.ForWorkers(workers, w =>
            {
                int first = (int)((long)batch * w / workers), last = (int)((long)batch * (w + 1) / workers);
                var dst = w == 0 ? c : partials;
                int off = w == 0 ? cOffset : (w - 1) * size;
                for (int i = first; i < last; i++) Single(i, m, n, k, a, b, dst, off, (w == 0 && accumulate) || i > first, parallel: false);
            });
            var sum = c.AsSpan(cOffset, size);
            for (int w = 1; w < workers; w++) TensorPrimitives.Add(sum, partials.AsSpan((w - 1) * size, size), sum);
        }
        finally
        {
            CpuArrayPool<float>.Return(partials);
        }
    }

    private static void Single(int bi, int m, int n, int k, GemmOperand<float> a, GemmOperand<float> b, float[] c, int cOff, bool accumulate, bool parallel,
        SgemmEpilogue? epilogue = null)
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
                    var blockEpilogue = pc + kc == k ? epilogue : null; // applied with the final K block only
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
                                Macro(mcb, nc, kc, packA, packB, c, cOff + ic * n + jcLocal, n, acc, blockEpilogue, ic, jcLocal);
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

    // Sweeps the packed block: B panels outer (stay in L1), A panels inner. row0 / col0: the block's first
    // row and column in C (where the epilogue's per-row and per-column vectors are read).
    private static void Macro(int mc, int nc, int kc, float[] packA, float[] packB, float[] c, int cOff, int ldc, bool accumulate,
        SgemmEpilogue? epilogue, int row0, int col0)
    {
        int mr = MR, nr = NR;
        var e = epilogue.GetValueOrDefault();
        SgemmEpilogueTile tileEp = default;
        SgemmEpilogueTile* ep = epilogue is null ? null : &tileEp;
        tileEp.Activation = e.Activation;
        float* padScale = stackalloc float[8];
        float* padShift = stackalloc float[8];
        float* padBias = stackalloc float[32];
        fixed (float* pa = packA, pb = packB, pcBase = c, scale = e.RowScale, shift = e.RowShift, bias = e.ColumnBias)
        {
            for (int jr = 0; jr < nc; jr += nr)
            {
                int nrb = Math.Min(nr, nc - jr);
                float* bPanel = pb + (long)jr * kc;
                if (bias != null) tileEp.ColumnBias = EpilogueSpan(bias + e.ColumnBiasOffset + col0 + jr, nrb, nr, padBias, 0f);
                for (int ir = 0; ir < mc; ir += mr)
                {
                    int mrb = Math.Min(mr, mc - ir);
                    float* aPanel = pa + (long)ir * kc;
                    float* cTile = pcBase + cOff + (long)ir * ldc + jr;
                    if (scale != null) tileEp.RowScale = EpilogueSpan(scale + e.RowScaleOffset + row0 + ir, mrb, mr, padScale, 1f);
                    if (shift != null) tileEp.RowShift = EpilogueSpan(shift + e.RowShiftOffset + row0 + ir, mrb, mr, padShift, 0f);
                    if (Wide) SgemmKernels.Kernel8x32(kc, aPanel, bPanel, cTile, ldc, accumulate, mrb, nrb, ep);
                    else SgemmKernels.Kernel6x16(kc, aPanel, bPanel, cTile, ldc, accumulate, mrb, nrb, ep);
                }
            }
        }
    }

    // The tile's slice of an epilogue vector: in place when whole, else copied into pad and filled to the
    // tile size with a neutral value (the kernel reads a whole MR / NR span).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* EpilogueSpan(float* src, int valid, int size, float* pad, float fill)
    {
        if (valid == size) return src;
        for (int i = 0; i < size; i++) pad[i] = i < valid ? src[i] : fill;
        return pad;
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

    // One full 8-row panel of a row-major A (rows `ld` apart): dst[p·8 + r] = src[r·ld + p].
    private static void PackRows8(float* src, int ld, int kc, float* dst)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8) Transpose8x8(src + p, ld, dst + p * 8, 8);
        for (; p < kc; p++)
        {
            for (int r = 0; r < 8; r++) dst[p * 8 + r] = src[(long)r * ld + p];
        }
    }

    // 8×8 block transposed in registers (unpack → shuffle → 128-bit lane permute):
    // dst[i·ldd + r] = src[r·ld + i] for r, i < 8.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, long ld, float* d, long ldd)
    {
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
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
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
        if (b.RowStride == 1 && b.ColStride != 1 && Avx.IsSupported)
        {
            PackBTransposed(b, bi, pc, kc, jc, nc, packB);
            return;
        }
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            int dst = jr * kc;
            if (b.ColStride == 1 && cols == nr && Vector256.IsHardwareAccelerated)
            {
                // Whole panel of a row-major B: each depth's NR floats copied in registers (a memmove call
                // per 64–128 bytes cost more than the copy).
                fixed (float* ps = src, pd = packB)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* s0 = ps + b.Index(bi, pc + p, jc + jr);
                        float* d0 = pd + dst + (long)p * nr;
                        if (Wide)
                        {
                            Vector512.Store(Vector512.Load(s0), d0);
                            Vector512.Store(Vector512.Load(s0 + 16), d0 + 16);
                        }
                        else
                        {
                            Vector256.Store(Vector256.Load(s0), d0);
                            Vector256.Store(Vector256.Load(s0 + 8), d0 + 8);
                        }
                    }
                }
                continue;
            }
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

    // B is a transposed view (Bᵀ row-major: B[p, j] at j·ld + p, e.g. Xᵀ in a weight gradient): columns
    // of B are contiguous, so 8 columns × 8 depths are transposed in registers straight into the panel.
    private static void PackBTransposed(GemmOperand<float> b, int bi, int pc, int kc, int jc, int nc, float[] packB)
    {
        int nr = NR;
        long ld = b.ColStride;
        fixed (float* ps = b.Data, pd = packB)
        {
            for (int jr = 0; jr < nc; jr += nr)
            {
                int cols = Math.Min(nr, nc - jr);
                float* panel = pd + (long)jr * kc;
                float* col0 = ps + b.Index(bi, pc, jc + jr);
                int j = 0;
                for (; j + 8 <= cols; j += 8)
                {
                    float* s = col0 + j * ld;
                    int p = 0;
                    for (; p + 8 <= kc; p += 8) Transpose8x8(s + p, ld, panel + (long)p * nr + j, nr);
                    for (; p < kc; p++)
                    {
                        for (int r = 0; r < 8; r++) panel[(long)p * nr + j + r] = s[r * ld + p];
                    }
                }
                for (int p = 0; p < kc; p++)
                {
                    float* row = panel + (long)p * nr;
                    for (int jj = j; jj < cols; jj++) row[jj] = col0[jj * ld + p];
                    for (int jj = cols; jj < nr; jj++) row[jj] = 0;
                }
            }
        }
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;
}
