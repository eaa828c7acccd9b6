using System.Numerics;
using System.Numerics.Tensors;
using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Batch-norm kernels for x viewed as (B, C, L), contiguous. Two layouts:
///   L &gt; 1 (conv features, e.g. (N, C, P) particles): channels split across cores, each channel's
///          B rows of length L reduced with span ops;
///   L = 1 (dense features (N, C)): rows accumulated into per-channel vectors (vectorised over C).
/// Statistics are two-pass (mean, then Σ(x − μ)²); per-channel sums across rows accumulate in float64.
/// Fixed summation order: deterministic.
/// </summary>
internal static class BatchNormChannels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Moments(Tensor x, Tensor mean, Tensor variance)
    {
        var (xs, xo, b, c, l) = View(x, "BatchNormMoments");
        var ms = CpuTensor.Array<T>(mean, "BatchNormMoments").AsSpan(mean.Offset, c);
        var vs = CpuTensor.Array<T>(variance, "BatchNormMoments").AsSpan(variance.Offset, c);
        T invCount = T.One / T.CreateTruncating(Math.Max((long)b * l, 1));
        if (l == 1)
        {
            ms.Clear();
            vs.Clear();
            var tmp = new T[c];
            for (int i = 0; i < b; i++) TensorPrimitives.Add(ms, xs.AsSpan(xo + i * c, c), ms);
            TensorPrimitives.Multiply(ms, invCount, ms);
            for (int i = 0; i < b; i++)
            {
                TensorPrimitives.Subtract(xs.AsSpan(xo + i * c, c), ms, tmp);
                TensorPrimitives.MultiplyAdd<T>(tmp, tmp, vs, vs);
            }
            TensorPrimitives.Multiply(vs, invCount, vs);
            return;
        }
        var meanArr = CpuTensor.Array<T>(mean, "BatchNormMoments");
        var varArr = CpuTensor.Array<T>(variance, "BatchNormMoments");
        int mo = mean.Offset, vo = variance.Offset;
        CpuParallel.For(c, 2L * b * l, (s, e) =>
        {
            var tmp = new T[l];
            for (int ch = s; ch < e; ch++)
            {
                // Row partial sums in T, the cross-row accumulation in float64 (as libtorch's CPU kernel).
                double sum = 0;
                for (int i = 0; i < b; i++) sum += double.CreateTruncating(TensorPrimitives.Sum<T>(xs.AsSpan(xo + (i * c + ch) * l, l)));
                T mu = T.CreateTruncating(sum * double.CreateTruncating(invCount));
                double sq = 0;
                for (int i = 0; i < b; i++)
                {
                    TensorPrimitives.Subtract(xs.AsSpan(xo + (i * c + ch) * l, l), mu, tmp);
                    sq += double.CreateTruncating(TensorPrimitives.SumOfSquares<T>(tmp));
                }
                meanArr[mo + ch] = mu;
                varArr[vo + ch] = T.CreateTruncating(sq * double.CreateTruncating(invCount));
            }
        });
    }

    public static void Affine(Tensor x, Tensor scale, Tensor shift, Tensor y)
    {
        var (xs, xo, b, c, l) = View(x, "ChannelAffine");
        var sc = CpuTensor.Array<T>(scale, "ChannelAffine");
        var sh = CpuTensor.Array<T>(shift, "ChannelAffine");
        var ys = CpuTensor.Array<T>(y, "ChannelAffine");
        int so = scale.Offset, ho = shift.Offset, yo = y.Offset;
        CpuParallel.For(b * c, l, (s, e) =>
        {
            if (l == 1)
            {
                // Rows of C: y = x ⊙ scale + shift, vectorised along C.
                for (int job = s; job < e;)
                {
                    int i = job / c, ch = job % c;
                    int len = Math.Min(c - ch, e - job);
                    TensorPrimitives.FusedMultiplyAdd<T>(xs.AsSpan(xo + job, len), sc.AsSpan(so + ch, len), sh.AsSpan(ho + ch, len), ys.AsSpan(yo + job, len));
                    job += len;
                }
                return;
            }
            for (int job = s; job < e; job++)
            {
                int ch = job % c;
                var yr = ys.AsSpan(yo + job * l, l);
                TensorPrimitives.Multiply(xs.AsSpan(xo + job * l, l), sc[so + ch], yr);
                TensorPrimitives.Add(yr, sh[ho + ch], yr);
            }
        });
    }

    public static void Backward(Tensor x, Tensor mean, Tensor invStd, Tensor? gamma, Tensor gradY, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
    {
        const string op = "BatchNormBackward";
        var (xs, xo, b, c, l) = View(x, op);
        var ms = CpuTensor.Array<T>(mean, op);
        var inv = CpuTensor.Array<T>(invStd, op);
        var gys = CpuTensor.Array<T>(gradY, op);
        var gxs = CpuTensor.Array<T>(gradX, op);
        T[]? gam = gamma is null ? null : CpuTensor.Array<T>(gamma, op);
        T[]? dg = gradGamma is null ? null : CpuTensor.Array<T>(gradGamma, op);
        T[]? db = gradBeta is null ? null : CpuTensor.Array<T>(gradBeta, op);
        int mo = mean.Offset, io = invStd.Offset, gamO = gamma?.Offset ?? 0, dgo = gradGamma?.Offset ?? 0, dbo = gradBeta?.Offset ?? 0;
        int gyo = gradY.Offset, gxo = gradX.Offset;
        T invCount = T.One / T.CreateTruncating(Math.Max((long)b * l, 1));
        // Per channel: Σg and Σg·x̂, then gx. The L = 1 layout is strided by C per element; it is still
        // channel-parallel because each channel's B values are independent.
        CpuParallel.For(c, 4L * b * l, (s, e) =>
        {
            var xhat = new T[l];
            for (int ch = s; ch < e; ch++)
            {
                T mu = ms[mo + ch], istd = inv[io + ch];
                double sumG = 0, sumGX = 0; // float64 accumulation across rows (matches libtorch's CPU precision)
                for (int i = 0; i < b; i++)
                {
                    int at = (i * c + ch) * l;
                    var gr = gys.AsSpan(gyo + at, l);
                    TensorPrimitives.Subtract(xs.AsSpan(xo + at, l), mu, xhat);
                    TensorPrimitives.Multiply(xhat, istd, xhat);
                    sumG += double.CreateTruncating(TensorPrimitives.Sum<T>(gr));
                    sumGX += double.CreateTruncating(TensorPrimitives.Dot<T>(gr, xhat));
                }
                T scale = (gam is null ? T.One : gam[gamO + ch]) * istd;
                T meanG = T.CreateTruncating(sumG * double.CreateTruncating(invCount)), meanGX = T.CreateTruncating(sumGX * double.CreateTruncating(invCount));
                for (int i = 0; i < b; i++)
                {
                    int at = (i * c + ch) * l;
                    var gr = gys.AsSpan(gyo + at, l);
                    var outR = gxs.AsSpan(gxo + at, l);
                    if (training)
                    {
                        // gx = γ·istd·(g − mean(g) − x̂·mean(g·x̂))
                        TensorPrimitives.Subtract(xs.AsSpan(xo + at, l), mu, xhat);
                        TensorPrimitives.Multiply(xhat, istd, xhat);
                        TensorPrimitives.MultiplyAdd<T>(xhat, -meanGX, gr, outR);
                        TensorPrimitives.Subtract(outR, meanG, outR);
                        TensorPrimitives.Multiply(outR, scale, outR);
                    }
                    else
                    {
                        TensorPrimitives.Multiply(gr, scale, outR);
                    }
                }
                if (dg is not null) dg[dgo + ch] += T.CreateTruncating(sumGX);
                if (db is not null) db[dbo + ch] += T.CreateTruncating(sumG);
            }
        });
    }

    private static (T[] Data, int Offset, int B, int C, int L) View(Tensor x, string op)
    {
        if (x.Rank < 2) throw new ArgumentException($"{op}: expects (B, C[, L]) input, got {x.Shape}");
        int b = x.Shape[0], c = x.Shape[1];
        int l = b * c == 0 ? 0 : (int)(x.Numel / ((long)b * c));
        return (CpuTensor.Array<T>(x, op), x.Offset, b, c, l);
    }
}
