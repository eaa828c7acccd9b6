using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Batch-norm kernels for x viewed as (B, C, L), contiguous. Two layouts:
///   L &gt; 1 (conv features, e.g. (N, C, P) particles): channels split across cores, each channel's
///          B rows of length L reduced with span ops;
///   L = 1 (dense features (N, C)): rows accumulated into per-channel vectors (vectorised over C).
/// Statistics are two-pass (mean, then Σ(x − μ)² with μ rounded to T) with every element accumulated in
/// float64, as libtorch's CPU kernel; backward reductions are per-row T sums accumulated in float64 across
/// rows (also as libtorch's). Fixed summation order: deterministic.
/// </summary>
internal static class BatchNormChannels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Moments(Tensor x, Tensor mean, Tensor variance)
    {
        var (xs, xo, b, c, l) = View(x, "BatchNormMoments");
        var meanArr = CpuTensor.Array<T>(mean, "BatchNormMoments");
        var varArr = CpuTensor.Array<T>(variance, "BatchNormMoments");
        int mo = mean.Offset, vo = variance.Offset;
        double count = Math.Max((long)b * l, 1);
        if (l == 1)
        {
            // Rows of C: per-channel float64 accumulators, each row widened and added (vectorised along C).
            var sum = new double[c];
            for (int i = 0; i < b; i++) AddWidened(xs.AsSpan(xo + i * c, c), sum);
            var mu = meanArr.AsSpan(mo, c);
            for (int ch = 0; ch < c; ch++) mu[ch] = T.CreateTruncating(sum[ch] / count);
            Array.Clear(sum);
            var dev = new T[c];
            for (int i = 0; i < b; i++)
            {
                TensorPrimitives.Subtract(xs.AsSpan(xo + i * c, c), mu, dev);
                AddSquaresWidened(dev, sum);
            }
            for (int ch = 0; ch < c; ch++) varArr[vo + ch] = T.CreateTruncating(sum[ch] / count);
            return;
        }
        CpuParallel.For(c, 2L * b * l, (s, e) =>
        {
            var dev = new T[l];
            for (int ch = s; ch < e; ch++)
            {
                // Every element accumulated in float64 (libtorch's CPU statistics accumulate each float in
                // a double): the mean is exact before its one rounding; float row sums are not enough for
                // B·L = 16K-element channels, whose mean error shifts the whole channel's output.
                double sum = 0;
                for (int i = 0; i < b; i++) sum += SumWidened(xs.AsSpan(xo + (i * c + ch) * l, l));
                T mu = T.CreateTruncating(sum / count);
                double sq = 0;
                for (int i = 0; i < b; i++)
                {
                    TensorPrimitives.Subtract(xs.AsSpan(xo + (i * c + ch) * l, l), mu, dev);
                    sq += SumSquaresWidened(dev);
                }
                meanArr[mo + ch] = mu;
                varArr[vo + ch] = T.CreateTruncating(sq / count);
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

    /// <summary>Σ x with every element converted to float64 before it is added (float32 widened per vector).</summary>
    private static double SumWidened(ReadOnlySpan<T> x)
    {
        if (typeof(T) != typeof(float)) return double.CreateTruncating(TensorPrimitives.Sum(x));
        var f = MemoryMarshal.Cast<T, float>(x);
        var acc = Vector<double>.Zero;
        int i = 0;
        for (; i <= f.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(f[i..]), out var lo, out var hi);
            acc += lo + hi;
        }
        double total = Vector.Sum(acc);
        for (; i < f.Length; i++) total += f[i];
        return total;
    }

    /// <summary>Σ d² in float64 (each float32 d widened, then squared and added in float64).</summary>
    private static double SumSquaresWidened(ReadOnlySpan<T> d)
    {
        if (typeof(T) != typeof(float)) return double.CreateTruncating(TensorPrimitives.SumOfSquares(d));
        var f = MemoryMarshal.Cast<T, float>(d);
        var acc = Vector<double>.Zero;
        int i = 0;
        for (; i <= f.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(f[i..]), out var lo, out var hi);
            acc += lo * lo + hi * hi;
        }
        double total = Vector.Sum(acc);
        for (; i < f.Length; i++) total += (double)f[i] * f[i];
        return total;
    }

    /// <summary>acc[j] += x[j] in float64 (float32 widened per vector).</summary>
    private static void AddWidened(ReadOnlySpan<T> x, Span<double> acc) => Accumulate(x, acc, square: false);

    /// <summary>acc[j] += d[j]² in float64.</summary>
    private static void AddSquaresWidened(ReadOnlySpan<T> d, Span<double> acc) => Accumulate(d, acc, square: true);

    private static void Accumulate(ReadOnlySpan<T> x, Span<double> acc, bool square)
    {
        if (typeof(T) == typeof(double))
        {
            var d = MemoryMarshal.Cast<T, double>(x);
            if (square) TensorPrimitives.MultiplyAdd(d, d, acc, acc);
            else TensorPrimitives.Add(acc, d, acc);
            return;
        }
        int j = 0;
        if (typeof(T) == typeof(float))
        {
            var f = MemoryMarshal.Cast<T, float>(x);
            int half = Vector<double>.Count;
            for (; j <= f.Length - Vector<float>.Count; j += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(f[j..]), out var lo, out var hi);
                var a0 = acc.Slice(j, half);
                var a1 = acc.Slice(j + half, half);
                (square ? new Vector<double>(a0) + lo * lo : new Vector<double>(a0) + lo).CopyTo(a0);
                (square ? new Vector<double>(a1) + hi * hi : new Vector<double>(a1) + hi).CopyTo(a1);
            }
        }
        for (; j < x.Length; j++)
        {
            double v = double.CreateTruncating(x[j]);
            acc[j] += square ? v * v : v;
        }
    }

    private static (T[] Data, int Offset, int B, int C, int L) View(Tensor x, string op)
    {
        if (x.Rank < 2) throw new ArgumentException($"{op}: expects (B, C[, L]) input, got {x.Shape}");
        int b = x.Shape[0], c = x.Shape[1];
        int l = b * c == 0 ? 0 : (int)(x.Numel / ((long)b * c));
        return (CpuTensor.Array<T>(x, op), x.Offset, b, c, l);
    }
}
