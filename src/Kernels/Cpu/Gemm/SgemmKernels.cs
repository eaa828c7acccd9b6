using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu.Gemm;

/// <summary>
/// Register-blocked float32 GEMM micro-kernels: C[MR×NR] (+)= Σ_k Apanel[k, 0..MR) ⊗ Bpanel[k, 0..NR).
/// Apanel is packed k-major with MR values per k; Bpanel k-major with NR values per k.
///   AVX-512: 8×32 tile = 16 zmm accumulators, 2 B loads + 8 broadcasts per k.
///   AVX2:    6×16 tile = 12 ymm accumulators, 2 B loads + 6 broadcasts per k.
/// Partial edge tiles are computed in full (packing zero-pads) and written through a stack tile.
/// Epilogue (ep non-null, last K block only): the finished tile goes through a stack tile (L1), where each
/// row becomes act(acc·scale[r] + shift[r] + bias[0..NR)) before the copy to C (<see cref="SgemmEpilogueTile"/>).
/// Applying it to the accumulator registers directly made the JIT keep them on the stack through the
/// k loop (the GELU call after it clobbers every vector register): 50 % slower at K = 64.
/// </summary>
internal static unsafe class SgemmKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, bool accumulate, int mr, int nr, SgemmEpilogueTile* ep)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            a += 8;
            b += 32;
        }
        // Full tile without epilogue: straight to C. Otherwise through a stack tile (L1). No call may come
        // before these stores: accumulators live across a call are kept on the stack through the k loop.
        bool direct = mr == 8 && nr == 32 && ep == null;
        bool acc = direct && accumulate; // the stack tile takes the raw sums; C's partial sums are added after
        float* tile = stackalloc float[direct ? 1 : 8 * 32];
        float* dst = direct ? c : tile;
        int ld = direct ? ldc : 32;
        Store512(dst, acc, c00, c01);
        Store512(dst + ld, acc, c10, c11);
        Store512(dst + 2 * ld, acc, c20, c21);
        Store512(dst + 3 * ld, acc, c30, c31);
        Store512(dst + 4 * ld, acc, c40, c41);
        Store512(dst + 5 * ld, acc, c50, c51);
        Store512(dst + 6 * ld, acc, c60, c61);
        Store512(dst + 7 * ld, acc, c70, c71);
        if (direct) return;
        if (accumulate) AddTile(c, ldc, tile, 32, mr, nr);
        if (ep != null) SgemmEpilogueMath.Apply512(tile, 8, ep);
        CopyTile(tile, 32, c, ldc, mr, nr);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, bool accumulate, int mr, int nr, SgemmEpilogueTile* ep)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }
        bool direct = mr == 6 && nr == 16 && ep == null;
        bool acc = direct && accumulate;
        float* tile = stackalloc float[direct ? 1 : 6 * 16];
        float* dst = direct ? c : tile;
        int ld = direct ? ldc : 16;
        Store256(dst, acc, c00, c01);
        Store256(dst + ld, acc, c10, c11);
        Store256(dst + 2 * ld, acc, c20, c21);
        Store256(dst + 3 * ld, acc, c30, c31);
        Store256(dst + 4 * ld, acc, c40, c41);
        Store256(dst + 5 * ld, acc, c50, c51);
        if (direct) return;
        if (accumulate) AddTile(c, ldc, tile, 16, mr, nr);
        if (ep != null) SgemmEpilogueMath.Apply256(tile, 6, ep);
        CopyTile(tile, 16, c, ldc, mr, nr);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* row, bool accumulate, Vector512<float> lo, Vector512<float> hi)
    {
        if (accumulate)
        {
            lo += Vector512.Load(row);
            hi += Vector512.Load(row + 16);
        }
        lo.Store(row);
        hi.Store(row + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* row, bool accumulate, Vector256<float> lo, Vector256<float> hi)
    {
        if (accumulate)
        {
            lo += Vector256.Load(row);
            hi += Vector256.Load(row + 8);
        }
        lo.Store(row);
        hi.Store(row + 8);
    }

    // tile[r, j] = c[r, j] + tile[r, j] for r < mr, j < nr (the earlier K blocks' partial sums).
    private static void AddTile(float* c, int ldc, float* tile, int ldt, int mr, int nr)
    {
        for (int r = 0; r < mr; r++)
        {
            float* s = c + (long)r * ldc, d = tile + (long)r * ldt;
            int j = 0;
            for (; j + 8 <= nr; j += 8) Vector256.Store(Vector256.Load(s + j) + Vector256.Load(d + j), d + j);
            for (; j < nr; j++) d[j] = s[j] + d[j];
        }
    }

    // dst[r, 0..nr) = src[r, 0..nr) for r < mr: 8-float vectors where whole, then single floats.
    private static void CopyTile(float* src, int lds, float* dst, int ldd, int mr, int nr)
    {
        for (int r = 0; r < mr; r++)
        {
            float* s = src + (long)r * lds, d = dst + (long)r * ldd;
            int j = 0;
            for (; j + 8 <= nr; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
            for (; j < nr; j++) d[j] = s[j];
        }
    }
}
