using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Layer norm over the last axis of x (rows, n), rows split across cores.
/// Forward: μ, σ² (two-pass, biased), rstd = 1/√(σ² + ε), y = (x − μ)·rstd·γ + β; float32 rows with 512-bit
/// vectors take three fused passes over the (cached) row (sum, centred sum of squares, one FMA store pass)
/// instead of six library calls.
/// Backward: x̂ = (x − μ)·rstd, ĝ = g·γ, gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂));
/// dγ += Σ_rows g·x̂, dβ += Σ_rows g via per-chunk partials added in chunk order (deterministic
/// for a given core count).
/// </summary>
internal static class LayerNormRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Forward(Tensor x, Tensor? gamma, Tensor? beta, double eps, Tensor y, Tensor mean, Tensor rstd)
    {
        const string op = "LayerNorm";
        var xs = CpuTensor.Array<T>(x, op);
        var ys = CpuTensor.Array<T>(y, op);
        var ms = CpuTensor.Array<T>(mean, op);
        var rs = CpuTensor.Array<T>(rstd, op);
        T[]? gs = gamma is null ? null : CpuTensor.Array<T>(gamma, op);
        T[]? bs = beta is null ? null : CpuTensor.Array<T>(beta, op);
        int go = gamma?.Offset ?? 0, bo = beta?.Offset ?? 0;
        int n = x.Shape[^1];
        int rows = n == 0 ? 0 : (int)(x.Numel / n);
        int xo = x.Offset, yo = y.Offset, mo = mean.Offset, ro = rstd.Offset;
        T epsT = T.CreateTruncating(eps), invN = T.One / T.CreateTruncating(n);
        if (typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated && n >= 16)
        {
            var xf = (float[])(object)xs;
            var yf = (float[])(object)ys;
            var mf = (float[])(object)ms;
            var rf = (float[])(object)rs;
            var gf = (float[]?)(object?)gs;
            var bf = (float[]?)(object?)bs;
            CpuParallel.For(rows, 3L * n, (s, e) =>
            {
                for (int r = s; r < e; r++)
                {
                    var (mu, inv) = RowFloat512(xf.AsSpan(xo + r * n, n), yf.AsSpan(yo + r * n, n),
                        gf is null ? default : gf.AsSpan(go, n), bf is null ? default : bf.AsSpan(bo, n), (float)eps);
                    mf[mo + r] = mu;
                    rf[ro + r] = inv;
                }
            });
            return;
        }
        CpuParallel.For(rows, 6L * n, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var xr = xs.AsSpan(xo + r * n, n);
                var yr = ys.AsSpan(yo + r * n, n);
                T mu = TensorPrimitives.Sum(xr) * invN;
                TensorPrimitives.Subtract(xr, mu, yr);
                T inv = T.One / T.Sqrt(TensorPrimitives.SumOfSquares(yr) * invN + epsT);
                TensorPrimitives.Multiply(yr, inv, yr);
                if (gs is not null) TensorPrimitives.Multiply(yr, gs.AsSpan(go, n), yr);
                if (bs is not null) TensorPrimitives.Add(yr, bs.AsSpan(bo, n), yr);
                ms[mo + r] = mu;
                rs[ro + r] = inv;
            }
        });
    }

    // One float32 row (n ≥ 16): μ = Σx/n, σ² = Σ(x − μ)²/n, y = (x − μ)·rstd·γ + β (γ, β empty = absent);
    // ragged tails by the last whole vector (reductions mask the overlap out). Returns (μ, rstd).
    private static unsafe (float Mean, float Rstd) RowFloat512(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps)
    {
        const int W = 16;
        int n = x.Length, whole = n - n % W;
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pg = gamma)
        fixed (float* pb = beta)
        {
            // Lanes of the last vector (starting at n − W) that the whole vectors did not cover.
            var tailMask = Vector512.GreaterThanOrEqual(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create(n - W),
                Vector512.Create(whole)).AsSingle();
            var s0 = Vector512<float>.Zero;
            var s1 = Vector512<float>.Zero;
            int i = 0;
            for (; i + 2 * W <= whole; i += 2 * W)
            {
                s0 += Vector512.Load(px + i);
                s1 += Vector512.Load(px + i + W);
            }
            if (i < whole) s0 += Vector512.Load(px + i);
            if (whole < n) s1 += Vector512.BitwiseAnd(Vector512.Load(px + n - W), tailMask);
            float mu = Vector512.Sum(s0 + s1) / n;
            var m = Vector512.Create(mu);
            s0 = Vector512<float>.Zero;
            s1 = Vector512<float>.Zero;
            for (i = 0; i + 2 * W <= whole; i += 2 * W)
            {
                var d0 = Vector512.Load(px + i) - m;
                var d1 = Vector512.Load(px + i + W) - m;
                s0 = Vector512.FusedMultiplyAdd(d0, d0, s0);
                s1 = Vector512.FusedMultiplyAdd(d1, d1, s1);
            }
            if (i < whole)
            {
                var d = Vector512.Load(px + i) - m;
                s0 = Vector512.FusedMultiplyAdd(d, d, s0);
            }
            if (whole < n)
            {
                var d = Vector512.BitwiseAnd(Vector512.Load(px + n - W) - m, tailMask);
                s1 = Vector512.FusedMultiplyAdd(d, d, s1);
            }
            float inv = 1f / MathF.Sqrt(Vector512.Sum(s0 + s1) / n + eps);
            var rstd = Vector512.Create(inv);
            // The last vector is computed before any store (y may alias x).
            var last = Store(px + n - W, pg == null ? null : pg + n - W, pb == null ? null : pb + n - W);
            for (i = 0; i + W <= n; i += W) Store(px + i, pg == null ? null : pg + i, pb == null ? null : pb + i).Store(py + i);
            if (i < n) last.Store(py + n - W);
            return (mu, inv);

            Vector512<float> Store(float* at, float* g, float* b)
            {
                var v = (Vector512.Load(at) - m) * rstd;
                if (g != null) v *= Vector512.Load(g);
                if (b != null) v += Vector512.Load(b);
                return v;
            }
        }
    }

    public static void Backward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gradY, Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
    {
        const string op = "LayerNormBackward";
        var xs = CpuTensor.Array<T>(x, op);
        var gys = CpuTensor.Array<T>(gradY, op);
        var gxs = CpuTensor.Array<T>(gradX, op);
        var ms = CpuTensor.Array<T>(mean, op);
        var rs = CpuTensor.Array<T>(rstd, op);
        T[]? gam = gamma is null ? null : CpuTensor.Array<T>(gamma, op);
        int gamO = gamma?.Offset ?? 0;
        int n = x.Shape[^1];
        int rows = n == 0 ? 0 : (int)(x.Numel / n);
        int xo = x.Offset, gyo = gradY.Offset, gxo = gradX.Offset, mo = mean.Offset, ro = rstd.Offset;
        T invN = T.One / T.CreateTruncating(Math.Max(n, 1));
        int chunks = Math.Max(1, Math.Min(CpuParallel.Threads, rows));
        var partialGamma = gradGamma is null ? null : new T[chunks * n];
        var partialBeta = gradBeta is null ? null : new T[chunks * n];
        Parallel.For(0, chunks, c =>
        {
            int s = (int)((long)rows * c / chunks), e = (int)((long)rows * (c + 1) / chunks);
            var xhat = new T[n];
            var ghat = new T[n];
            for (int r = s; r < e; r++)
            {
                var xr = xs.AsSpan(xo + r * n, n);
                var gr = gys.AsSpan(gyo + r * n, n);
                var outR = gxs.AsSpan(gxo + r * n, n);
                T inv = rs[ro + r];
                TensorPrimitives.Subtract(xr, ms[mo + r], xhat);
                TensorPrimitives.Multiply(xhat, inv, xhat);
                if (gam is not null) TensorPrimitives.Multiply(gr, gam.AsSpan(gamO, n), ghat);
                else gr.CopyTo(ghat);
                T meanG = TensorPrimitives.Sum<T>(ghat) * invN;
                T meanGX = TensorPrimitives.Dot<T>(ghat, xhat) * invN;
                // gx = rstd·(ĝ − meanG − x̂·meanGX)
                TensorPrimitives.MultiplyAdd<T>(xhat, -meanGX, ghat, outR);
                TensorPrimitives.Subtract(outR, meanG, outR);
                TensorPrimitives.Multiply(outR, inv, outR);
                if (partialGamma is not null)
                {
                    var pg = partialGamma.AsSpan(c * n, n);
                    TensorPrimitives.MultiplyAdd<T>(gr, xhat, pg, pg);
                }
                if (partialBeta is not null)
                {
                    var pb = partialBeta.AsSpan(c * n, n);
                    TensorPrimitives.Add(pb, gr, pb);
                }
            }
        });
        if (gradGamma is not null) AddPartials(partialGamma!, chunks, n, CpuTensor.Array<T>(gradGamma, op).AsSpan(gradGamma.Offset, n));
        if (gradBeta is not null) AddPartials(partialBeta!, chunks, n, CpuTensor.Array<T>(gradBeta, op).AsSpan(gradBeta.Offset, n));
    }

    private static void AddPartials(T[] partials, int chunks, int n, Span<T> destination)
    {
        for (int c = 0; c < chunks; c++) TensorPrimitives.Add(destination, partials.AsSpan(c * n, n), destination);
    }
}
