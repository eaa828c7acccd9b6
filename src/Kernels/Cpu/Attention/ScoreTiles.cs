using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// Attention score tiles with the logit bias folded in (L = Vector512&lt;T&gt;.Count lanes, 8 query rows):
///   tile[r, j..j + wL) = bias[r][j..] + keyBias[j..] + Σ_d a[r·lda + d] · bt[d·ldb + j..]
///   maxv[r] = max(maxv[r], tile[r, j..j + wL))   (lane-wise running row max)
/// for w = 2 (<see cref="Scores2"/>, 16 accumulators) or w = 1 (<see cref="Scores1"/>). a holds the 8
/// query rows (read in place, row stride lda), bt the D × Nk' panel of scale·kᵀ; bias[r] points at query row r's pair
/// bias (or at a zero row), keyBias holds 0 / −∞ per key. The accumulators start from the bias, so the
/// scores are produced in one pass with no separate add-bias or max pass over the tile.
/// Each element is accumulated in a fixed order: deterministic.
/// </summary>
internal static unsafe class ScoreTiles<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma(Vector512<T> a, Vector512<T> b, Vector512<T> c) => TileKernels<T>.Fma(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores2(int depth, T* a, int lda, T* bt, int ldb, T** bias, int j, T* keyBias, T* tile, int ldt, T* maxv)
    {
        int lanes = Lanes;
        var k0 = Vector512.Load(keyBias + j);
        var k1 = Vector512.Load(keyBias + j + lanes);
        var c00 = Vector512.Load(bias[0] + j) + k0; var c01 = Vector512.Load(bias[0] + j + lanes) + k1;
        var c10 = Vector512.Load(bias[1] + j) + k0; var c11 = Vector512.Load(bias[1] + j + lanes) + k1;
        var c20 = Vector512.Load(bias[2] + j) + k0; var c21 = Vector512.Load(bias[2] + j + lanes) + k1;
        var c30 = Vector512.Load(bias[3] + j) + k0; var c31 = Vector512.Load(bias[3] + j + lanes) + k1;
        var c40 = Vector512.Load(bias[4] + j) + k0; var c41 = Vector512.Load(bias[4] + j + lanes) + k1;
        var c50 = Vector512.Load(bias[5] + j) + k0; var c51 = Vector512.Load(bias[5] + j + lanes) + k1;
        var c60 = Vector512.Load(bias[6] + j) + k0; var c61 = Vector512.Load(bias[6] + j + lanes) + k1;
        var c70 = Vector512.Load(bias[7] + j) + k0; var c71 = Vector512.Load(bias[7] + j + lanes) + k1;
        bt += j;
        T* a4r = a + 4 * lda;
        nint l1 = lda, l2 = 2 * lda, l3 = 3 * lda;
        for (int d = 0; d < depth; d++, a++, a4r++, bt += ldb)
        {
            var b0 = Vector512.Load(bt);
            var b1 = Vector512.Load(bt + lanes);
            var a0 = Vector512.Create(a[0]);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
            var a1 = Vector512.Create(a[l1]);
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11);
            var a2 = Vector512.Create(a[l2]);
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21);
            var a3 = Vector512.Create(a[l3]);
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31);
            var a4 = Vector512.Create(a4r[0]);
            c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41);
            var a5 = Vector512.Create(a4r[l1]);
            c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51);
            var a6 = Vector512.Create(a4r[l2]);
            c60 = Fma(a6, b0, c60); c61 = Fma(a6, b1, c61);
            var a7 = Vector512.Create(a4r[l3]);
            c70 = Fma(a7, b0, c70); c71 = Fma(a7, b1, c71);
        }
        tile += j;
        Store2(c00, c01, tile, maxv);
        Store2(c10, c11, tile + ldt, maxv + lanes);
        Store2(c20, c21, tile + 2 * ldt, maxv + 2 * lanes);
        Store2(c30, c31, tile + 3 * ldt, maxv + 3 * lanes);
        Store2(c40, c41, tile + 4 * ldt, maxv + 4 * lanes);
        Store2(c50, c51, tile + 5 * ldt, maxv + 5 * lanes);
        Store2(c60, c61, tile + 6 * ldt, maxv + 6 * lanes);
        Store2(c70, c71, tile + 7 * ldt, maxv + 7 * lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores1(int depth, T* a, int lda, T* bt, int ldb, T** bias, int j, T* keyBias, T* tile, int ldt, T* maxv)
    {
        int lanes = Lanes;
        var k0 = Vector512.Load(keyBias + j);
        var c0 = Vector512.Load(bias[0] + j) + k0;
        var c1 = Vector512.Load(bias[1] + j) + k0;
        var c2 = Vector512.Load(bias[2] + j) + k0;
        var c3 = Vector512.Load(bias[3] + j) + k0;
        var c4 = Vector512.Load(bias[4] + j) + k0;
        var c5 = Vector512.Load(bias[5] + j) + k0;
        var c6 = Vector512.Load(bias[6] + j) + k0;
        var c7 = Vector512.Load(bias[7] + j) + k0;
        bt += j;
        T* a4r = a + 4 * lda;
        nint l1 = lda, l2 = 2 * lda, l3 = 3 * lda;
        for (int d = 0; d < depth; d++, a++, a4r++, bt += ldb)
        {
            var b0 = Vector512.Load(bt);
            c0 = Fma(Vector512.Create(a[0]), b0, c0);
            c1 = Fma(Vector512.Create(a[l1]), b0, c1);
            c2 = Fma(Vector512.Create(a[l2]), b0, c2);
            c3 = Fma(Vector512.Create(a[l3]), b0, c3);
            c4 = Fma(Vector512.Create(a4r[0]), b0, c4);
            c5 = Fma(Vector512.Create(a4r[l1]), b0, c5);
            c6 = Fma(Vector512.Create(a4r[l2]), b0, c6);
            c7 = Fma(Vector512.Create(a4r[l3]), b0, c7);
        }
        tile += j;
        Store1(c0, tile, maxv);
        Store1(c1, tile + ldt, maxv + lanes);
        Store1(c2, tile + 2 * ldt, maxv + 2 * lanes);
        Store1(c3, tile + 3 * ldt, maxv + 3 * lanes);
        Store1(c4, tile + 4 * ldt, maxv + 4 * lanes);
        Store1(c5, tile + 5 * ldt, maxv + 5 * lanes);
        Store1(c6, tile + 6 * ldt, maxv + 6 * lanes);
        Store1(c7, tile + 7 * ldt, maxv + 7 * lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(Vector512<T> c0, Vector512<T> c1, T* dst, T* maxv)
    {
        c0.Store(dst);
        c1.Store(dst + Lanes);
        Max(Vector512.Load(maxv), Max(c0, c1)).Store(maxv);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1(Vector512<T> c, T* dst, T* maxv)
    {
        c.Store(dst);
        Max(Vector512.Load(maxv), c).Store(maxv);
    }

    // Lane-wise max without IEEE NaN/±0 fix-ups (one VMAXPS/VMAXPD; the scores are never NaN for finite inputs).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Max(Vector512<T> a, Vector512<T> b)
    {
        if (typeof(T) == typeof(float) && Avx512F.IsSupported) return Avx512F.Max(a.As<T, float>(), b.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double) && Avx512F.IsSupported) return Avx512F.Max(a.As<T, double>(), b.As<T, double>()).As<double, T>();
        return Vector512.Max(a, b);
    }
}
