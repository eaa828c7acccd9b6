using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// Register-tile building blocks shared by the attention and kNN kernels, generic over float and
/// double (L = Vector512&lt;T&gt;.Count lanes). All operands are small L1/L2-resident scratch panels.
///   ScoreTile:        tile[r, 0..2L) = Σ_d a[d·lda + r] · bt[d·ldb + (0..2L)] for r &lt; 8
///                     (8 broadcasts + 2 vector loads → 16 FMAs per d; 16 accumulator registers).
///   RowsTimesMatrix:  out[r, :] += Σ_j p[r·ldp + j] · m[j·ldm + :] for r &lt; 8 (P·V, dS·K);
///                     the row width is a multiple of L, done two vectors (16 accumulators) at a time.
///   TransposeTimesRows: m[j·ldm + :] += Σ_r p[r·ldp + j] · rows[r·ldr + :] (Pᵀ·dO, dSᵀ·Q).
/// Each output element is accumulated in a fixed order: deterministic.
/// </summary>
internal static unsafe class TileKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows of a register tile.</summary>
    public const int Rows = 8;

    public static int Lanes => Vector512<T>.Count;

    /// <summary>a·b + c, fused for float and double (the type test folds away at JIT time).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        return a * b + c;
    }

    /// <summary>
    /// e^x per lane. float: <see cref="FastExp.Exp"/> (the softmax/attention hot path, ≤ 2 ulp); double:
    /// the runtime's Vector512.Exp (gradient checks need full double accuracy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp(Vector512<T> x)
    {
        if (typeof(T) == typeof(float)) return FastExp.Exp(x.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Exp(x.As<T, double>()).As<double, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    /// <summary>e^x per lane for arguments that cannot overflow (x − max ≤ 0, −∞, NaN): float skips the overflow clamp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ExpNonPositive(Vector512<T> x)
    {
        if (typeof(T) == typeof(float)) return FastExp.NonPositive(x.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Exp(x.As<T, double>()).As<double, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScoreTile(int depth, T* a, int lda, T* bt, int ldb, T* tile, int ldt)
    {
        int lanes = Lanes;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int d = 0; d < depth; d++, a += lda, bt += ldb)
        {
            var b0 = Vector512.Load(bt);
            var b1 = Vector512.Load(bt + lanes);
            var a0 = Vector512.Create(a[0]);
            c00 = Fma(a0, b0, c00);
            c01 = Fma(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Fma(a1, b0, c10);
            c11 = Fma(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Fma(a2, b0, c20);
            c21 = Fma(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Fma(a3, b0, c30);
            c31 = Fma(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Fma(a4, b0, c40);
            c41 = Fma(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Fma(a5, b0, c50);
            c51 = Fma(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Fma(a6, b0, c60);
            c61 = Fma(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Fma(a7, b0, c70);
            c71 = Fma(a7, b1, c71);
        }
        c00.Store(tile);
        c01.Store(tile + lanes);
        c10.Store(tile + ldt);
        c11.Store(tile + ldt + lanes);
        c20.Store(tile + 2 * ldt);
        c21.Store(tile + 2 * ldt + lanes);
        c30.Store(tile + 3 * ldt);
        c31.Store(tile + 3 * ldt + lanes);
        c40.Store(tile + 4 * ldt);
        c41.Store(tile + 4 * ldt + lanes);
        c50.Store(tile + 5 * ldt);
        c51.Store(tile + 5 * ldt + lanes);
        c60.Store(tile + 6 * ldt);
        c61.Store(tile + 6 * ldt + lanes);
        c70.Store(tile + 7 * ldt);
        c71.Store(tile + 7 * ldt + lanes);
    }

    /// <summary>output[r, 0..width) += Σ_{j &lt; count} p[r·ldp + j] · m[j·ldm + 0..width) for the 8 rows; width a multiple of L.</summary>
    public static void RowsTimesMatrix(int count, T* p, int ldp, T* m, int ldm, int width, T* output, int ldo)
    {
        int lanes = Lanes, col = 0;
        for (; col + 2 * lanes <= width; col += 2 * lanes) RowsTimesMatrix2(count, p, ldp, m + col, ldm, output + col, ldo);
        if (col < width) RowsTimesMatrix1(count, p, ldp, m + col, ldm, output + col, ldo);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsTimesMatrix2(int count, T* p, int ldp, T* m, int ldm, T* o, int ldo)
    {
        int lanes = Lanes;
        var o00 = Vector512.Load(o); var o01 = Vector512.Load(o + lanes);
        var o10 = Vector512.Load(o + ldo); var o11 = Vector512.Load(o + ldo + lanes);
        var o20 = Vector512.Load(o + 2 * ldo); var o21 = Vector512.Load(o + 2 * ldo + lanes);
        var o30 = Vector512.Load(o + 3 * ldo); var o31 = Vector512.Load(o + 3 * ldo + lanes);
        var o40 = Vector512.Load(o + 4 * ldo); var o41 = Vector512.Load(o + 4 * ldo + lanes);
        var o50 = Vector512.Load(o + 5 * ldo); var o51 = Vector512.Load(o + 5 * ldo + lanes);
        var o60 = Vector512.Load(o + 6 * ldo); var o61 = Vector512.Load(o + 6 * ldo + lanes);
        var o70 = Vector512.Load(o + 7 * ldo); var o71 = Vector512.Load(o + 7 * ldo + lanes);
        for (int j = 0; j < count; j++, m += ldm)
        {
            var m0 = Vector512.Load(m);
            var m1 = Vector512.Load(m + lanes);
            var p0 = Vector512.Create(p[j]);
            o00 = Fma(p0, m0, o00); o01 = Fma(p0, m1, o01);
            var p1 = Vector512.Create(p[ldp + j]);
            o10 = Fma(p1, m0, o10); o11 = Fma(p1, m1, o11);
            var p2 = Vector512.Create(p[2 * ldp + j]);
            o20 = Fma(p2, m0, o20); o21 = Fma(p2, m1, o21);
            var p3 = Vector512.Create(p[3 * ldp + j]);
            o30 = Fma(p3, m0, o30); o31 = Fma(p3, m1, o31);
            var p4 = Vector512.Create(p[4 * ldp + j]);
            o40 = Fma(p4, m0, o40); o41 = Fma(p4, m1, o41);
            var p5 = Vector512.Create(p[5 * ldp + j]);
            o50 = Fma(p5, m0, o50); o51 = Fma(p5, m1, o51);
            var p6 = Vector512.Create(p[6 * ldp + j]);
            o60 = Fma(p6, m0, o60); o61 = Fma(p6, m1, o61);
            var p7 = Vector512.Create(p[7 * ldp + j]);
            o70 = Fma(p7, m0, o70); o71 = Fma(p7, m1, o71);
        }
        o00.Store(o); o01.Store(o + lanes);
        o10.Store(o + ldo); o11.Store(o + ldo + lanes);
        o20.Store(o + 2 * ldo); o21.Store(o + 2 * ldo + lanes);
        o30.Store(o + 3 * ldo); o31.Store(o + 3 * ldo + lanes);
        o40.Store(o + 4 * ldo); o41.Store(o + 4 * ldo + lanes);
        o50.Store(o + 5 * ldo); o51.Store(o + 5 * ldo + lanes);
        o60.Store(o + 6 * ldo); o61.Store(o + 6 * ldo + lanes);
        o70.Store(o + 7 * ldo); o71.Store(o + 7 * ldo + lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsTimesMatrix1(int count, T* p, int ldp, T* m, int ldm, T* o, int ldo)
    {
        var o0 = Vector512.Load(o); var o1 = Vector512.Load(o + ldo);
        var o2 = Vector512.Load(o + 2 * ldo); var o3 = Vector512.Load(o + 3 * ldo);
        var o4 = Vector512.Load(o + 4 * ldo); var o5 = Vector512.Load(o + 5 * ldo);
        var o6 = Vector512.Load(o + 6 * ldo); var o7 = Vector512.Load(o + 7 * ldo);
        for (int j = 0; j < count; j++, m += ldm)
        {
            var mv = Vector512.Load(m);
            o0 = Fma(Vector512.Create(p[j]), mv, o0);
            o1 = Fma(Vector512.Create(p[ldp + j]), mv, o1);
            o2 = Fma(Vector512.Create(p[2 * ldp + j]), mv, o2);
            o3 = Fma(Vector512.Create(p[3 * ldp + j]), mv, o3);
            o4 = Fma(Vector512.Create(p[4 * ldp + j]), mv, o4);
            o5 = Fma(Vector512.Create(p[5 * ldp + j]), mv, o5);
            o6 = Fma(Vector512.Create(p[6 * ldp + j]), mv, o6);
            o7 = Fma(Vector512.Create(p[7 * ldp + j]), mv, o7);
        }
        o0.Store(o); o1.Store(o + ldo); o2.Store(o + 2 * ldo); o3.Store(o + 3 * ldo);
        o4.Store(o + 4 * ldo); o5.Store(o + 5 * ldo); o6.Store(o + 6 * ldo); o7.Store(o + 7 * ldo);
    }

    /// <summary>m[j·ldm + 0..width) += Σ_{r &lt; 8} p[r·ldp + j] · rows[r·ldr + 0..width) for j &lt; count; width a multiple of L.</summary>
    public static void TransposeTimesRows(int count, T* p, int ldp, T* rows, int ldr, int width, T* m, int ldm)
    {
        int lanes = Lanes;
        for (int col = 0; col < width; col += lanes) TransposeTimesRows1(count, p, ldp, rows + col, ldr, m + col, ldm);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeTimesRows1(int count, T* p, int ldp, T* rows, int ldr, T* m, int ldm)
    {
        var r0 = Vector512.Load(rows); var r1 = Vector512.Load(rows + ldr);
        var r2 = Vector512.Load(rows + 2 * ldr); var r3 = Vector512.Load(rows + 3 * ldr);
        var r4 = Vector512.Load(rows + 4 * ldr); var r5 = Vector512.Load(rows + 5 * ldr);
        var r6 = Vector512.Load(rows + 6 * ldr); var r7 = Vector512.Load(rows + 7 * ldr);
        for (int j = 0; j < count; j++, m += ldm)
        {
            var acc = Fma(Vector512.Create(p[j]), r0, Vector512.Load(m));
            acc = Fma(Vector512.Create(p[ldp + j]), r1, acc);
            acc = Fma(Vector512.Create(p[2 * ldp + j]), r2, acc);
            acc = Fma(Vector512.Create(p[3 * ldp + j]), r3, acc);
            acc = Fma(Vector512.Create(p[4 * ldp + j]), r4, acc);
            acc = Fma(Vector512.Create(p[5 * ldp + j]), r5, acc);
            acc = Fma(Vector512.Create(p[6 * ldp + j]), r6, acc);
            acc = Fma(Vector512.Create(p[7 * ldp + j]), r7, acc);
            acc.Store(m);
        }
    }
}
