using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Batch-norm kernels for x viewed as (B, C, L), contiguous. Two layouts:
///   L &gt; 1 (conv features, e.g. (N, C, P) particles): channels split across cores, each channel's
///          B rows of length L reduced with span ops;
///   L = 1 (dense features (N, C)): rows accumulated into per-channel vectors (vectorised over C).
/// Statistics accumulate every element in float64, as libtorch's CPU kernel: for L &gt; 1 one pass of sums
/// shifted by the channel's first value, for L = 1 two passes (mean, then Σ(x − μ)²); backward reductions are per-row T sums accumulated in float64 across
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
        CpuParallel.For(c, b * l, (s, e) =>
        {
            for (int ch = s; ch < e; ch++)
            {
                var (mu, var) = ChannelMoments(xs, xo, ch, b, c, l);
                meanArr[mo + ch] = mu;
                varArr[vo + ch] = var;
            }
        });
    }

    /// <summary>
    /// Mean and biased variance of channel <paramref name="ch"/> of x (B, C, L), L &gt; 1, in one pass of
    /// shifted float64 sums (libtorch's CPU statistics also accumulate every float in a double):
    /// S1 = Σ(x − x₀), S2 = Σ(x − x₀)² with x₀ the channel's first value, so var = S2/n − (S1/n)² loses only
    /// ~1e−16·(μ − x₀)²/σ² (x₀ is a sample, |μ − x₀| ~ σ) — float row sums are not enough for B·L = 16K-element
    /// channels, whose mean error shifts the whole channel's output. One read of x instead of two.
    /// </summary>
    private static (T Mean, T Variance) ChannelMoments(T[] xs, int xo, int ch, int b, int c, int l)
    {
        double shift = double.CreateTruncating(xs[xo + ch * l]);
        var s1 = Vector<double>.Zero;
        var s2 = Vector<double>.Zero;
        double t1 = 0, t2 = 0;
        for (int i = 0; i < b; i++) ShiftedSums(xs.AsSpan(xo + (i * c + ch) * l, l), shift, ref s1, ref s2, ref t1, ref t2);
        double count = Math.Max((long)b * l, 1);
        double m1 = (Vector.Sum(s1) + t1) / count, m2 = (Vector.Sum(s2) + t2) / count;
        return (T.CreateTruncating(shift + m1), T.CreateTruncating(Math.Max(m2 - m1 * m1, 0)));
    }

    /// <summary>s1 += Σ(x − shift), s2 += Σ(x − shift)², every element widened to float64 first.</summary>
    private static void ShiftedSums(ReadOnlySpan<T> x, double shift, ref Vector<double> s1, ref Vector<double> s2, ref double t1, ref double t2)
    {
        var sv = new Vector<double>(shift);
        int i = 0;
        if (typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated)
        {
            // AVX-512: sixteen floats per step (the row's partial sums added to t1/t2 in float64).
            ref float f0 = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(x));
            var sw = Vector512.Create(shift);
            Vector512<double> a1 = Vector512<double>.Zero, a2 = Vector512<double>.Zero;
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref f0, (nuint)i));
                lo -= sw;
                hi -= sw;
                a1 += lo + hi;
                a2 += lo * lo + hi * hi;
            }
            t1 += Vector512.Sum(a1);
            t2 += Vector512.Sum(a2);
        }
        if (typeof(T) == typeof(float))
        {
            var f = MemoryMarshal.Cast<T, float>(x);
            for (; i <= f.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(f[i..]), out var lo, out var hi);
                lo -= sv;
                hi -= sv;
                s1 += lo + hi;
                s2 += lo * lo + hi * hi;
            }
        }
        else if (typeof(T) == typeof(double))
        {
            var d = MemoryMarshal.Cast<T, double>(x);
            for (; i <= d.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var v = new Vector<double>(d[i..]) - sv;
                s1 += v;
                s2 += v * v;
            }
        }
        for (; i < x.Length; i++)
        {
            double v = double.CreateTruncating(x[i]) - shift;
            t1 += v;
            t2 += v * v;
        }
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

    /// <summary>
    /// Fused batch-norm apply + ReLU (+ mean over groups): z = x·scale[c] + shift[c] (multiply, then add —
    /// the rounding of <see cref="Affine"/>), r = max(z, 0). group = 1: y (B, C, L) = r, one pass over x,
    /// rows split across cores, non-temporal stores for outputs larger than the cache. group &gt; 1 (the
    /// mean over the k neighbours of an EdgeConv block): y (B, C, L/group) = mean of each consecutive
    /// group of r, so the (B, C, L) activation is never written. Deterministic.
    /// </summary>
    public static void AffineRelu(Tensor x, Tensor scale, Tensor shift, int group, Tensor y)
    {
        const string op = "BatchNormRelu";
        var (xs, xo, b, c, l) = View(x, group, op);
        var sc = CpuTensor.Array<T>(scale, op);
        var sh = CpuTensor.Array<T>(shift, op);
        var ys = CpuTensor.Array<T>(y, op);
        int so = scale.Offset, ho = shift.Offset, yo = y.Offset, outL = l / Math.Max(group, 1);
        if (l == 1)
        {
            // Dense rows of C: r = max(x ⊙ scale + shift, 0), vectorised along C.
            CpuParallel.For(b, c, (s, e) =>
            {
                for (int i = s; i < e; i++)
                    AffineReluSpan(xs.AsSpan(xo + i * c, c), sc.AsSpan(so, c), sh.AsSpan(ho, c), ys.AsSpan(yo + i * c, c));
            });
            return;
        }
        bool stream = group == 1 && StreamingStores.Pays<T>((long)b * c * l);
        CpuParallel.For(b * c, l, (s, e) =>
        {
            var relu = group > 1 && group % Vector<T>.Count != 0 ? new T[l] : [];
            for (int job = s; job < e; job++)
            {
                int ch = job % c;
                var xr = xs.AsSpan(xo + job * l, l);
                if (group == 1)
                {
                    if (stream) StreamingStores.Map(xr, ys.AsSpan(yo + job * l, l), new AffineReluMap(sc[so + ch], sh[ho + ch]));
                    else AffineReluRow(xr, sc[so + ch], sh[ho + ch], ys.AsSpan(yo + job * l, l));
                }
                else
                {
                    MeanGroupsRow(xr, sc[so + ch], sh[ho + ch], group, ys.AsSpan(yo + job * outL, outL), relu);
                }
            }
        });
    }

    /// <summary>
    /// Training forward of the fused batch norm + ReLU, channel by channel (channels split across cores):
    /// the statistics of <see cref="Moments"/>, the coefficients invStd = 1/√(var + ε), scale = γ·invStd,
    /// shift = β − μ·scale (each rounded to T as the composed tensor ops round them; γ = 1, β = 0 when
    /// absent), then <see cref="AffineRelu"/> on that channel's rows, which the statistics pass has just
    /// brought into cache: x is read from memory once instead of twice. Dense (B, C) input runs the three
    /// steps one after the other. Deterministic.
    /// </summary>
    public static void MomentsAffineRelu(Tensor x, Tensor? gamma, Tensor? beta, double eps, int group, Tensor y,
        Tensor mean, Tensor variance, Tensor invStd, Tensor scale, Tensor shift)
    {
        const string op = "BatchNormRelu";
        var (xs, xo, b, c, l) = View(x, group, op);
        var ms = CpuTensor.Array<T>(mean, op);
        var vs = CpuTensor.Array<T>(variance, op);
        var iv = CpuTensor.Array<T>(invStd, op);
        var sc = CpuTensor.Array<T>(scale, op);
        var sh = CpuTensor.Array<T>(shift, op);
        T[]? gam = gamma is null ? null : CpuTensor.Array<T>(gamma, op);
        T[]? bet = beta is null ? null : CpuTensor.Array<T>(beta, op);
        int mo = mean.Offset, vo = variance.Offset, io = invStd.Offset, so = scale.Offset, ho = shift.Offset;
        int go = gamma?.Offset ?? 0, bo = beta?.Offset ?? 0;
        T epsT = T.CreateTruncating(eps);
        void Coefficients(int ch)
        {
            T mu = ms[mo + ch];
            T istd = T.One / T.Sqrt(vs[vo + ch] + epsT);
            T scl = gam is null ? istd : gam[go + ch] * istd;
            T meanScale = mu * scl;
            iv[io + ch] = istd;
            sc[so + ch] = scl;
            sh[ho + ch] = bet is null ? -meanScale : bet[bo + ch] - meanScale;
        }
        if (l <= 1)
        {
            Moments(x, mean, variance);
            for (int ch = 0; ch < c; ch++) Coefficients(ch);
            AffineRelu(x, scale, shift, group, y);
            return;
        }
        var ys = CpuTensor.Array<T>(y, op);
        int yo = y.Offset, outL = l / group;
        bool stream = group == 1 && StreamingStores.Pays<T>((long)b * c * l);
        CpuParallel.For(c, 3L * b * l, (s, e) =>
        {
            var relu = group > 1 && group % Vector<T>.Count != 0 ? new T[l] : [];
            for (int ch = s; ch < e; ch++)
            {
                (ms[mo + ch], vs[vo + ch]) = ChannelMoments(xs, xo, ch, b, c, l);
                Coefficients(ch);
                T scl = sc[so + ch], sft = sh[ho + ch];
                for (int i = 0; i < b; i++)
                {
                    int row = i * c + ch;
                    var xr = xs.AsSpan(xo + row * l, l);
                    if (group > 1) MeanGroupsRow(xr, scl, sft, group, ys.AsSpan(yo + row * outL, outL), relu);
                    else if (stream) StreamingStores.Map(xr, ys.AsSpan(yo + row * l, l), new AffineReluMap(scl, sft));
                    else AffineReluRow(xr, scl, sft, ys.AsSpan(yo + row * l, l));
                }
            }
        });
    }

    /// <summary>
    /// Backward of <see cref="AffineRelu"/> after batch norm (x the batch norm's input, normalised with
    /// mean/invStd; scale = γ·invStd, shift = β − μ·scale as in the forward). Per channel (channels split
    /// across cores, two single-pass vector loops per row): the ReLU mask is recomputed from x (z &gt; 0 with
    /// the forward's rounding), the masked gradient gm = g (group = 1) or g[…, l/group]/group (the mean's
    /// backward), and the batch-norm backward of <see cref="Backward"/> runs on gm: Σgm and Σgm·x̂ (row
    /// sums in T, accumulated across rows in float64), then training gx = scale·(gm − mean(gm) − x̂·mean(gm·x̂)),
    /// eval gx = scale·gm. gradGamma += Σgm·x̂, gradBeta += Σgm. gx is fully written. Deterministic.
    /// </summary>
    public static void ReluBackward(Tensor x, Tensor mean, Tensor invStd, Tensor scale, Tensor shift, Tensor gradY, int group, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
    {
        const string op = "BatchNormReluBackward";
        var (xs, xo, b, c, l) = View(x, group, op);
        var ms = CpuTensor.Array<T>(mean, op);
        var inv = CpuTensor.Array<T>(invStd, op);
        var scs = CpuTensor.Array<T>(scale, op);
        var shs = CpuTensor.Array<T>(shift, op);
        var gys = CpuTensor.Array<T>(gradY, op);
        var gxs = CpuTensor.Array<T>(gradX, op);
        T[]? dg = gradGamma is null ? null : CpuTensor.Array<T>(gradGamma, op);
        T[]? db = gradBeta is null ? null : CpuTensor.Array<T>(gradBeta, op);
        int mo = mean.Offset, io = invStd.Offset, sco = scale.Offset, sho = shift.Offset, dgo = gradGamma?.Offset ?? 0, dbo = gradBeta?.Offset ?? 0;
        int gyo = gradY.Offset, gxo = gradX.Offset, outL = l / Math.Max(group, 1);
        T invGroup = T.One / T.CreateTruncating(Math.Max(group, 1));
        double invCount = 1.0 / Math.Max((long)b * l, 1);
        bool sums = training || dg is not null || db is not null;
        // Groups that are not a multiple of the vector width (e.g. ParticleNet-Lite's k = 7) have the
        // row's gradient expanded to g[l/group]/group in L1 first and then take the group = 1 path.
        bool expand = group > 1 && group % Vector<T>.Count != 0;
        // gx larger than the cache is computed row by row into L1 and streamed out (no read-for-ownership).
        bool stream = StreamingStores.Pays<T>((long)b * c * l);
        CpuParallel.For(c, 4L * b * l, (s, e) =>
        {
            var expanded = expand ? new T[l] : null;
            var staging = stream ? new T[l] : null;
            for (int ch = s; ch < e; ch++)
            {
                var k = new ReluBackwardRow(ms[mo + ch], inv[io + ch], scs[sco + ch], shs[sho + ch], group, invGroup);
                double sumG = 0, sumGX = 0;
                if (sums)
                {
                    for (int i = 0; i < b; i++)
                    {
                        int row = i * c + ch;
                        var (rowG, rowGX) = k.Sums(xs.AsSpan(xo + row * l, l), RowGradient(gys.AsSpan(gyo + row * outL, outL), group, invGroup, expanded));
                        sumG += double.CreateTruncating(rowG);
                        sumGX += double.CreateTruncating(rowGX);
                    }
                }
                T meanG = T.CreateTruncating(sumG * invCount), meanGX = T.CreateTruncating(sumGX * invCount);
                for (int i = 0; i < b; i++)
                {
                    int row = i * c + ch;
                    var outR = gxs.AsSpan(gxo + row * l, l);
                    k.Gradient(xs.AsSpan(xo + row * l, l), RowGradient(gys.AsSpan(gyo + row * outL, outL), group, invGroup, expanded),
                        training, meanG, meanGX, staging ?? outR);
                    if (staging is not null) StreamingStores.Copy<T>(staging, outR);
                }
                if (dg is not null) dg[dgo + ch] += T.CreateTruncating(sumGX);
                if (db is not null) db[dbo + ch] += T.CreateTruncating(sumG);
            }
        });
    }

    /// <summary>The row's incoming gradient: as is, or expanded to g[l/group]·(1/group) into <paramref name="expanded"/> when given.</summary>
    private static ReadOnlySpan<T> RowGradient(ReadOnlySpan<T> g, int group, T invGroup, T[]? expanded)
    {
        if (expanded is null) return g;
        for (int j = 0; j < g.Length; j++) expanded.AsSpan(j * group, group).Fill(g[j] * invGroup);
        return expanded;
    }

    /// <summary>
    /// One channel's rows of the fused backward, each a single vector loop over x (and g): the ReLU mask
    /// z = x·scale + shift &gt; 0 (the forward's rounding), gm = mask ? g : 0 with g read per element
    /// (group 1, or an expanded row) or broadcast per group (group a multiple of the vector width),
    /// x̂ = (x − μ)·invStd.
    /// </summary>
    private readonly struct ReluBackwardRow(T mu, T istd, T scale, T shift, int group, T invGroup)
    {
        private readonly Vector<T> _mu = new(mu), _istd = new(istd), _scale = new(scale), _shift = new(shift);
        private readonly int _group = group % Vector<T>.Count == 0 ? group : 1;

        // AVX-512 path (the loops are close to compute-bound at 256 bits): whole rows of 512-bit vectors.
        private bool Wide => Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && (_group == 1 || _group % Vector512<T>.Count == 0);

        /// <summary>(Σ gm, Σ gm·x̂) over one row, summed in T.</summary>
        public (T SumG, T SumGX) Sums(ReadOnlySpan<T> x, ReadOnlySpan<T> g)
        {
            if (Wide) return SumsWide(x, g);
            var accG = Vector<T>.Zero;
            var accGX = Vector<T>.Zero;
            int lanes = Vector<T>.Count, i = 0;
            if (_group == 1)
            {
                for (; i <= x.Length - lanes; i += lanes)
                {
                    var xv = new Vector<T>(x[i..]);
                    var gm = Vector.ConditionalSelect(Vector.GreaterThan(xv * _scale + _shift, Vector<T>.Zero), new Vector<T>(g[i..]), Vector<T>.Zero);
                    accG += gm;
                    accGX += gm * ((xv - _mu) * _istd);
                }
            }
            else
            {
                for (int j = 0; j < g.Length; j++)
                {
                    var gv = new Vector<T>(g[j] * invGroup);
                    for (int end = i + _group; i < end; i += lanes)
                    {
                        var xv = new Vector<T>(x[i..]);
                        var gm = Vector.ConditionalSelect(Vector.GreaterThan(xv * _scale + _shift, Vector<T>.Zero), gv, Vector<T>.Zero);
                        accG += gm;
                        accGX += gm * ((xv - _mu) * _istd);
                    }
                }
            }
            T sumG = Vector.Sum(accG), sumGX = Vector.Sum(accGX);
            return Tail(x, g, i, sumG, sumGX);
        }

        private (T SumG, T SumGX) SumsWide(ReadOnlySpan<T> x, ReadOnlySpan<T> g)
        {
            ref T x0 = ref MemoryMarshal.GetReference(x);
            ref T g0 = ref MemoryMarshal.GetReference(g);
            Vector512<T> sc = Vector512.Create(scale), sh = Vector512.Create(shift), m = Vector512.Create(mu), iv = Vector512.Create(istd);
            Vector512<T> accG = Vector512<T>.Zero, accGX = Vector512<T>.Zero;
            int lanes = Vector512<T>.Count, i = 0;
            if (_group == 1)
            {
                for (; i <= x.Length - lanes; i += lanes)
                {
                    var xv = Vector512.LoadUnsafe(ref x0, (nuint)i);
                    var gm = Vector512.ConditionalSelect(Vector512.GreaterThan(xv * sc + sh, Vector512<T>.Zero), Vector512.LoadUnsafe(ref g0, (nuint)i), Vector512<T>.Zero);
                    accG += gm;
                    accGX += gm * ((xv - m) * iv);
                }
            }
            else
            {
                for (int j = 0; j < g.Length; j++)
                {
                    var gv = Vector512.Create(g[j] * invGroup);
                    for (int end = i + _group; i < end; i += lanes)
                    {
                        var xv = Vector512.LoadUnsafe(ref x0, (nuint)i);
                        var gm = Vector512.ConditionalSelect(Vector512.GreaterThan(xv * sc + sh, Vector512<T>.Zero), gv, Vector512<T>.Zero);
                        accG += gm;
                        accGX += gm * ((xv - m) * iv);
                    }
                }
            }
            return Tail(x, g, i, Vector512.Sum(accG), Vector512.Sum(accGX));
        }

        // Elements [i, n) of a group = 1 row (a grouped row has no tail: its length is a multiple of the group).
        private (T SumG, T SumGX) Tail(ReadOnlySpan<T> x, ReadOnlySpan<T> g, int i, T sumG, T sumGX)
        {
            for (; i < x.Length; i++)
            {
                T gm = x[i] * scale + shift > T.Zero ? g[i] : T.Zero;
                sumG += gm;
                sumGX += gm * ((x[i] - mu) * istd);
            }
            return (sumG, sumGX);
        }

        /// <summary>training: gx = scale·(gm − x̂·meanGX − meanG) (as <see cref="Backward"/>); eval: gx = scale·gm. gx may alias x.</summary>
        public void Gradient(ReadOnlySpan<T> x, ReadOnlySpan<T> g, bool training, T meanG, T meanGX, Span<T> gx)
        {
            int i = Wide ? GradientWide(x, g, training, meanG, meanGX, gx) : GradientNarrow(x, g, training, meanG, meanGX, gx);
            for (; i < x.Length; i++)
            {
                T gm = x[i] * scale + shift > T.Zero ? g[i] : T.Zero;
                gx[i] = training ? ((x[i] - mu) * istd * -meanGX + gm - meanG) * scale : gm * scale;
            }
        }

        // Vector part of Gradient; returns where the scalar tail starts.
        private int GradientWide(ReadOnlySpan<T> x, ReadOnlySpan<T> g, bool training, T meanG, T meanGX, Span<T> gx)
        {
            ref T x0 = ref MemoryMarshal.GetReference(x);
            ref T g0 = ref MemoryMarshal.GetReference(g);
            ref T o0 = ref MemoryMarshal.GetReference(gx);
            Vector512<T> sc = Vector512.Create(scale), sh = Vector512.Create(shift), m = Vector512.Create(mu), iv = Vector512.Create(istd);
            Vector512<T> mg = Vector512.Create(meanG), nmgx = Vector512.Create(-meanGX);
            int lanes = Vector512<T>.Count, i = 0;
            if (_group == 1)
            {
                for (; i <= x.Length - lanes; i += lanes)
                {
                    var xv = Vector512.LoadUnsafe(ref x0, (nuint)i);
                    var gm = Vector512.ConditionalSelect(Vector512.GreaterThan(xv * sc + sh, Vector512<T>.Zero), Vector512.LoadUnsafe(ref g0, (nuint)i), Vector512<T>.Zero);
                    (training ? ((xv - m) * iv * nmgx + gm - mg) * sc : gm * sc).StoreUnsafe(ref o0, (nuint)i);
                }
                return i;
            }
            for (int j = 0; j < g.Length; j++)
            {
                var gv = Vector512.Create(g[j] * invGroup);
                for (int end = i + _group; i < end; i += lanes)
                {
                    var xv = Vector512.LoadUnsafe(ref x0, (nuint)i);
                    var gm = Vector512.ConditionalSelect(Vector512.GreaterThan(xv * sc + sh, Vector512<T>.Zero), gv, Vector512<T>.Zero);
                    (training ? ((xv - m) * iv * nmgx + gm - mg) * sc : gm * sc).StoreUnsafe(ref o0, (nuint)i);
                }
            }
            return i;
        }

        private int GradientNarrow(ReadOnlySpan<T> x, ReadOnlySpan<T> g, bool training, T meanG, T meanGX, Span<T> gx)
        {
            var mg = new Vector<T>(meanG);
            var nmgx = new Vector<T>(-meanGX);
            int lanes = Vector<T>.Count, i = 0;
            if (_group == 1)
            {
                for (; i <= x.Length - lanes; i += lanes)
                {
                    var xv = new Vector<T>(x[i..]);
                    var gm = Vector.ConditionalSelect(Vector.GreaterThan(xv * _scale + _shift, Vector<T>.Zero), new Vector<T>(g[i..]), Vector<T>.Zero);
                    (training ? ((xv - _mu) * _istd * nmgx + gm - mg) * _scale : gm * _scale).CopyTo(gx[i..]);
                }
            }
            else
            {
                for (int j = 0; j < g.Length; j++)
                {
                    var gv = new Vector<T>(g[j] * invGroup);
                    for (int end = i + _group; i < end; i += lanes)
                    {
                        var xv = new Vector<T>(x[i..]);
                        var gm = Vector.ConditionalSelect(Vector.GreaterThan(xv * _scale + _shift, Vector<T>.Zero), gv, Vector<T>.Zero);
                        (training ? ((xv - _mu) * _istd * nmgx + gm - mg) * _scale : gm * _scale).CopyTo(gx[i..]);
                    }
                }
            }
            return i;
        }
    }

    /// <summary>y = max(x·scale + shift, 0) for one row with per-row scalars (vectorised).</summary>
    private static void AffineReluRow(ReadOnlySpan<T> x, T scale, T shift, Span<T> y)
    {
        var sv = new Vector<T>(scale);
        var hv = new Vector<T>(shift);
        int i = 0;
        for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            Vector.Max(new Vector<T>(x[i..]) * sv + hv, Vector<T>.Zero).CopyTo(y[i..]);
        for (; i < x.Length; i++) y[i] = T.Max(x[i] * scale + shift, T.Zero);
    }

    /// <summary>y = max(x ⊙ scale + shift, 0) with per-element scale and shift (dense rows of C).</summary>
    private static void AffineReluSpan(ReadOnlySpan<T> x, ReadOnlySpan<T> scale, ReadOnlySpan<T> shift, Span<T> y)
    {
        int i = 0;
        for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            Vector.Max(new Vector<T>(x[i..]) * new Vector<T>(scale[i..]) + new Vector<T>(shift[i..]), Vector<T>.Zero).CopyTo(y[i..]);
        for (; i < x.Length; i++) y[i] = T.Max(x[i] * scale[i] + shift[i], T.Zero);
    }

    /// <summary>y[j] = mean over x[j·group .. (j+1)·group) of max(x·scale + shift, 0).</summary>
    private static void MeanGroupsRow(ReadOnlySpan<T> x, T scale, T shift, int group, Span<T> y, Span<T> relu)
    {
        T invGroup = T.One / T.CreateTruncating(group);
        int lanes = Vector<T>.Count;
        if (group % lanes == 0)
        {
            var sv = new Vector<T>(scale);
            var hv = new Vector<T>(shift);
            for (int j = 0; j < y.Length; j++)
            {
                var acc = Vector<T>.Zero;
                var xg = x.Slice(j * group, group);
                for (int k = 0; k < group; k += lanes) acc += Vector.Max(new Vector<T>(xg[k..]) * sv + hv, Vector<T>.Zero);
                y[j] = Vector.Sum(acc) * invGroup;
            }
            return;
        }
        // Other group sizes (ParticleNet-Lite's k = 7): the row's ReLU outputs in L1 (vectorised), then
        // each group summed in order.
        AffineReluRow(x, scale, shift, relu);
        for (int j = 0; j < y.Length; j++)
        {
            T acc = T.Zero;
            foreach (var v in relu.Slice(j * group, group)) acc += v;
            y[j] = acc * invGroup;
        }
    }

    /// <summary>The group = 1 forward as a streaming map: max(x·scale + shift, 0).</summary>
    private readonly struct AffineReluMap(T scale, T shift) : IVectorMap<T>
    {
        private readonly Vector512<T> _scale = Vector512.Create(scale), _shift = Vector512.Create(shift);

        public Vector512<T> Apply(Vector512<T> x) => Vector512.Max(x * _scale + _shift, Vector512<T>.Zero);
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

    // The view of a fused batch norm + ReLU (+ mean over groups of the row): the group must divide L.
    private static (T[] Data, int Offset, int B, int C, int L) View(Tensor x, int group, string op)
    {
        var view = View(x, op);
        if (group < 1 || (view.L > 0 && view.L % group != 0)) throw new ArgumentException($"{op}: group {group} must divide the row length {view.L}");
        return view;
    }
}
