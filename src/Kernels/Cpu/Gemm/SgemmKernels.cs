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
/// Epilogue (<paramref name="ep"/> non-null, last K block only): before the store each row becomes
/// act(acc·scale[r] + shift[r] + bias[0..NR)) while still in registers (<see cref="SgemmEpilogueTile"/>).
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
        bool full = mr == 8 && nr == 32;
        float* tile = stackalloc float[full ? 1 : 8 * 32];
        float* dst = full ? c : tile;
        int ld = full ? ldc : 32;
        if (!full && accumulate) LoadEdge(c, ldc, tile, 32, mr, nr);
        if (ep == null)
        {
            Store512(dst, accumulate, c00, c01);
            Store512(dst + ld, accumulate, c10, c11);
            Store512(dst + 2 * ld, accumulate, c20, c21);
            Store512(dst + 3 * ld, accumulate, c30, c31);
            Store512(dst + 4 * ld, accumulate, c40, c41);
            Store512(dst + 5 * ld, accumulate, c50, c51);
            Store512(dst + 6 * ld, accumulate, c60, c61);
            Store512(dst + 7 * ld, accumulate, c70, c71);
        }
        else
        {
            var bLo = ep->ColumnBias == null ? Vector512<float>.Zero : Vector512.Load(ep->ColumnBias);
            var bHi = ep->ColumnBias == null ? Vector512<float>.Zero : Vector512.Load(ep->ColumnBias + 16);
            Finish512(dst, accumulate, c00, c01, ep, 0, bLo, bHi);
            Finish512(dst + ld, accumulate, c10, c11, ep, 1, bLo, bHi);
            Finish512(dst + 2 * ld, accumulate, c20, c21, ep, 2, bLo, bHi);
            Finish512(dst + 3 * ld, accumulate, c30, c31, ep, 3, bLo, bHi);
            Finish512(dst + 4 * ld, accumulate, c40, c41, ep, 4, bLo, bHi);
            Finish512(dst + 5 * ld, accumulate, c50, c51, ep, 5, bLo, bHi);
            Finish512(dst + 6 * ld, accumulate, c60, c61, ep, 6, bLo, bHi);
            Finish512(dst + 7 * ld, accumulate, c70, c71, ep, 7, bLo, bHi);
        }
        if (!full) CopyEdge(tile, 32, c, ldc, mr, nr);
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
        bool full = mr == 6 && nr == 16;
        float* tile = stackalloc float[full ? 1 : 6 * 16];
        float* dst = full ? c : tile;
        int ld = full ? ldc : 16;
        if (!full && accumulate) LoadEdge(c, ldc, tile, 16, mr, nr);
        if (ep == null)
        {
            Store256(dst, accumulate, c00, c01);
            Store256(dst + ld, accumulate, c10, c11);
            Store256(dst + 2 * ld, accumulate, c20, c21);
            Store256(dst + 3 * ld, accumulate, c30, c31);
            Store256(dst + 4 * ld, accumulate, c40, c41);
            Store256(dst + 5 * ld, accumulate, c50, c51);
        }
        else
        {
            var bLo = ep->ColumnBias == null ? Vector256<float>.Zero : Vector256.Load(ep->ColumnBias);
            var bHi = ep->ColumnBias == null ? Vector256<float>.Zero : Vector256.Load(ep->ColumnBias + 8);
            Finish256(dst, accumulate, c00, c01, ep, 0, bLo, bHi);
            Finish256(dst + ld, accumulate, c10, c11, ep, 1, bLo, bHi);
            Finish256(dst + 2 * ld, accumulate, c20, c21, ep, 2, bLo, bHi);
            Finish256(dst + 3 * ld, accumulate, c30, c31, ep, 3, bLo, bHi);
            Finish256(dst + 4 * ld, accumulate, c40, c41, ep, 4, bLo, bHi);
            Finish256(dst + 5 * ld, accumulate, c50, c51, ep, 5, bLo, bHi);
        }
        if (!full) CopyEdge(tile, 16, c, ldc, mr, nr);
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

    // Epilogue of one 32-wide row: (+ the stored partial sum), ·scale[r] + shift[r] + bias, activation.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish512(float* row, bool accumulate, Vector512<float> lo, Vector512<float> hi, SgemmEpilogueTile* ep, int r,
        Vector512<float> biasLo, Vector512<float> biasHi)
    {
        if (accumulate)
        {
            lo += Vector512.Load(row);
            hi += Vector512.Load(row + 16);
        }
        var scale = ep->RowScale == null ? Vector512<float>.One : Vector512.Create(ep->RowScale[r]);
        var shift = ep->RowShift == null ? Vector512<float>.Zero : Vector512.Create(ep->RowShift[r]);
        lo = Vector512.FusedMultiplyAdd(lo, scale, shift + biasLo);
        hi = Vector512.FusedMultiplyAdd(hi, scale, shift + biasHi);
        if (ep->Activation == GemmActivation.Relu)
        {
            lo = Vector512.Max(lo, Vector512<float>.Zero);
            hi = Vector512.Max(hi, Vector512<float>.Zero);
        }
        else if (ep->Activation == GemmActivation.Gelu)
        {
            lo = SgemmEpilogueMath.Gelu(lo);
            hi = SgemmEpilogueMath.Gelu(hi);
        }
        lo.Store(row);
        hi.Store(row + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish256(float* row, bool accumulate, Vector256<float> lo, Vector256<float> hi, SgemmEpilogueTile* ep, int r,
        Vector256<float> biasLo, Vector256<float> biasHi)
    {
        if (accumulate)
        {
            lo += Vector256.Load(row);
            hi += Vector256.Load(row + 8);
        }
        var scale = ep->RowScale == null ? Vector256<float>.One : Vector256.Create(ep->RowScale[r]);
        var shift = ep->RowShift == null ? Vector256<float>.Zero : Vector256.Create(ep->RowShift[r]);
        lo = Vector256.FusedMultiplyAdd(lo, scale, shift + biasLo);
        hi = Vector256.FusedMultiplyAdd(hi, scale, shift + biasHi);
        if (ep->Activation == GemmActivation.Relu)
        {
            lo = Vector256.Max(lo, Vector256<float>.Zero);
            hi = Vector256.Max(hi, Vector256<float>.Zero);
        }
        else if (ep->Activation == GemmActivation.Gelu)
        {
            lo = SgemmEpilogueMath.Gelu(lo);
            hi = SgemmEpilogueMath.Gelu(hi);
        }
        lo.Store(row);
        hi.Store(row + 8);
    }

    // Edge tile with accumulate: the stored partial sums of the valid part into the stack tile (the
    // padding lanes hold garbage that is never copied out).
    private static void LoadEdge(float* c, int ldc, float* tile, int ldt, int mr, int nr)
    {
        for (int r = 0; r < mr; r++)
        {
            for (int j = 0; j < nr; j++) tile[r * ldt + j] = c[r * ldc + j];
        }
    }

    private static void CopyEdge(float* tile, int ldt, float* c, int ldc, int mr, int nr)
    {
        for (int r = 0; r < mr; r++)
        {
            for (int j = 0; j < nr; j++) c[r * ldc + j] = tile[r * ldt + j];
        }
    }
}
