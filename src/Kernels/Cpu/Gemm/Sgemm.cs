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
