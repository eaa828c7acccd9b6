using System.Numerics;
using System.Numerics.Tensors;
using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Layer norm over the last axis of x (rows, n), rows split across cores.
/// Forward: μ, σ² (two-pass, biased), rstd = 1/√(σ² + ε), y = (x − μ)·rstd·γ + β.
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
