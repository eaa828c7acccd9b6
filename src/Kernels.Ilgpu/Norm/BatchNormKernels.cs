namespace Hep.Kernels.Ilgpu;

/// <summary>Layout of x viewed as (B, C, L) and the batch-norm flags.</summary>
internal struct ChannelArgs
{
    public int B, C, L;
    public int Training, HasGamma, HasGradGamma, HasGradBeta;

    /// <summary>BatchNormRelu: consecutive outputs averaged (1 = none; divides L).</summary>
    public int Group;

    /// <summary>BatchNormRelu training forward: HasBeta flag and ε.</summary>
    public int HasBeta;
    public double Eps;
}

/// <summary>
/// Batch-norm kernels for contiguous x viewed as (B, C, L) (L = 1 for dense (N, C) features).
///   Moments  one group per channel: two-pass mean and biased variance over the B·L values, every
///            element widened to float64 and accumulated in float64 (as the CPU kernel and libtorch's
///            CPU statistics; float32 partial sums over 262K-element channels shift the mean by ulps).
///   Affine   one thread per element: y = x·scale[c] + shift[c].
///   Backward one group per channel: Σg and Σg·x̂ (x̂ = (x − μ)·invStd), then
///            training gx = γ·invStd·(g − mean(g) − x̂·mean(g·x̂)), eval gx = γ·invStd·g;
///            dγ[c] += Σg·x̂, dβ[c] += Σg written by thread 0 (no atomics).
///   AffineRelu one thread per output: mean over its Group inputs of max(x·scale[c] + shift[c], 0)
///            (Group = 1: the fused batch-norm apply + ReLU; Group = k: + EdgeConv's mean over neighbours).
///   MomentsAffineRelu one group per channel: Moments, then invStd = 1/√(var + ε), scale = γ·invStd,
///            shift = β − μ·scale (rounded to T as the tensor ops round them), then AffineRelu over the
///            channel's B·L/Group outputs (the training forward of the fused op in one launch).
///   ReluBackward one group per channel: Backward on gm = (x·scale + shift &gt; 0) ⊙ g (g read at
///            l / Group and divided by Group), with scale = γ·invStd; sums accumulated in float64.
/// Deterministic.
/// </summary>
internal static class BatchNormKernels
{
    [KernelEntry]
    public static void Moments<T, TS>(ArrayView<T> x, ArrayView<T> mean, ArrayView<T> variance, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<double>(LaunchMath.MaxGroupSize);
        int t = Group.IdxX, ch = Grid.IdxX;
        var (mu, variance0) = ChannelMoments<T, TS>(x, scratch, ch, p);
        if (t == 0)
        {
            mean[ch] = TS.FromDouble(mu);
            variance[ch] = TS.FromDouble(variance0);
        }
    }

    [KernelEntry]
    public static void Affine<T, TS>(Index1D i, ArrayView<T> x, ArrayView<T> scale, ArrayView<T> shift, ArrayView<T> y, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int ch = i / p.L % p.C;
        y[i] = x[i] * scale[ch] + shift[ch];
    }

    [KernelEntry]
    public static void Backward<T, TS>(ArrayView<T> x, ArrayView<T> mean, ArrayView<T> invStd, ArrayView<T> gamma, ArrayView<T> gradY,
        ArrayView<T> gradX, ArrayView<T> gradGamma, ArrayView<T> gradBeta, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(2 * LaunchMath.MaxGroupSize);
        int t = Group.IdxX, g = Group.DimX, ch = Grid.IdxX, count = p.B * p.L;
        T mu = mean[ch], istd = invStd[ch];
        T sumG = T.Zero, sumGX = T.Zero;
        for (int e = t; e < count; e += g)
        {
            int at = Index(e, ch, p);
            T gy = gradY[at];
            sumG += gy;
            sumGX += gy * ((x[at] - mu) * istd);
        }
        var (totalG, totalGX) = GroupReduce.Sum2(scratch, sumG, sumGX);
        T invCount = T.One / TS.FromInt(count > 1 ? count : 1);
        T scale = (p.HasGamma != 0 ? gamma[ch] : T.One) * istd;
        T meanG = totalG * invCount, meanGX = totalGX * invCount;
        for (int e = t; e < count; e += g)
        {
            int at = Index(e, ch, p);
            gradX[at] = p.Training != 0
                ? ((x[at] - mu) * istd * -meanGX + gradY[at] - meanG) * scale
                : gradY[at] * scale;
        }
        if (t == 0)
        {
            if (p.HasGradGamma != 0) gradGamma[ch] += totalGX;
            if (p.HasGradBeta != 0) gradBeta[ch] += totalG;
        }
    }

    [KernelEntry]
    public static void AffineRelu<T, TS>(Index1D i, ArrayView<T> x, ArrayView<T> scale, ArrayView<T> shift, ArrayView<T> y, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int outL = p.L / p.Group;
        int ch = i / outL % p.C;
        T sc = scale[ch], sh = shift[ch];
        if (p.Group == 1)
        {
            y[i] = T.Max(x[i] * sc + sh, T.Zero);
            return;
        }
        int row = i / outL, first = row * p.L + (i - row * outL) * p.Group;
        T acc = T.Zero;
        for (int k = 0; k < p.Group; k++) acc += T.Max(x[first + k] * sc + sh, T.Zero);
        y[i] = acc * (T.One / TS.FromInt(p.Group));
    }

    [KernelEntry]
    public static void MomentsAffineRelu<T, TS>(ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> beta, ArrayView<T> y, ArrayView<T> mean,
        ArrayView<T> variance, ArrayView<T> invStd, ArrayView<T> scale, ArrayView<T> shift, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<double>(LaunchMath.MaxGroupSize);
        int t = Group.IdxX, g = Group.DimX, ch = Grid.IdxX;
        var (mu, variance0) = ChannelMoments<T, TS>(x, scratch, ch, p);
        T muT = TS.FromDouble(mu), varT = TS.FromDouble(variance0);
        T istd = T.One / T.Sqrt(varT + TS.FromDouble(p.Eps));
        T sc = p.HasGamma != 0 ? gamma[ch] * istd : istd;
        T meanScale = muT * sc;
        T sh = p.HasBeta != 0 ? beta[ch] - meanScale : -meanScale;
        if (t == 0)
        {
            mean[ch] = muT;
            variance[ch] = varT;
            invStd[ch] = istd;
            scale[ch] = sc;
            shift[ch] = sh;
        }
        int outL = p.L / p.Group, outputs = p.B * outL;
        T invGroup = T.One / TS.FromInt(p.Group);
        for (int e = t; e < outputs; e += g)
        {
            int b = e / outL, j = e - b * outL, row = b * p.C + ch, first = row * p.L + j * p.Group;
            T acc = T.Zero;
            for (int k = 0; k < p.Group; k++) acc += T.Max(x[first + k] * sc + sh, T.Zero);
            y[row * outL + j] = p.Group == 1 ? acc : acc * invGroup;
        }
    }

    [KernelEntry]
    public static void ReluBackward<T, TS>(ArrayView<T> x, ArrayView<T> mean, ArrayView<T> invStd, ArrayView<T> scale, ArrayView<T> shift,
        ArrayView<T> gradY, ArrayView<T> gradX, ArrayView<T> gradGamma, ArrayView<T> gradBeta, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<double>(2 * LaunchMath.MaxGroupSize);
        int t = Group.IdxX, g = Group.DimX, ch = Grid.IdxX, count = p.B * p.L;
        T mu = mean[ch], istd = invStd[ch], sc = scale[ch], sh = shift[ch];
        T invGroup = T.One / TS.FromInt(p.Group);
        double sumG = 0, sumGX = 0;
        for (int e = t; e < count; e += g)
        {
            int at = Index(e, ch, p);
            T gm = MaskedGradient(x[at], gradY, at, sc, sh, invGroup, p);
            sumG += TS.ToDouble(gm);
            sumGX += TS.ToDouble(gm * ((x[at] - mu) * istd));
        }
        var (totalG, totalGX) = GroupReduce.Sum2(scratch, sumG, sumGX);
        double invCount = 1.0 / (count > 1 ? count : 1);
        T meanG = TS.FromDouble(totalG * invCount), meanGX = TS.FromDouble(totalGX * invCount);
        for (int e = t; e < count; e += g)
        {
            int at = Index(e, ch, p);
            T gm = MaskedGradient(x[at], gradY, at, sc, sh, invGroup, p);
            gradX[at] = p.Training != 0
                ? ((x[at] - mu) * istd * -meanGX + gm - meanG) * sc
                : gm * sc;
        }
        if (t == 0)
        {
            if (p.HasGradGamma != 0) gradGamma[ch] += TS.FromDouble(totalGX);
            if (p.HasGradBeta != 0) gradBeta[ch] += TS.FromDouble(totalG);
        }
    }

    // gm for x at flat position at: g (read at at / Group, divided by Group) where x·scale + shift > 0.
    // The channel's mean and biased variance in float64 (two passes over its B·L elements, group-wide sums).
    private static (double Mean, double Variance) ChannelMoments<T, TS>(ArrayView<T> x, ArrayView<double> scratch, int ch, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int t = Group.IdxX, g = Group.DimX, count = p.B * p.L;
        double invCount = 1.0 / (count > 1 ? count : 1);
        double sum = 0;
        for (int e = t; e < count; e += g) sum += TS.ToDouble(x[Index(e, ch, p)]);
        double mu = GroupReduce.Sum(scratch, sum) * invCount;
        double sq = 0;
        for (int e = t; e < count; e += g)
        {
            double d = TS.ToDouble(x[Index(e, ch, p)]) - mu;
            sq += d * d;
        }
        return (mu, GroupReduce.Sum(scratch, sq) * invCount);
    }

    private static T MaskedGradient<T>(T xv, ArrayView<T> gradY, int at, T sc, T sh, T invGroup, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(xv * sc + sh > T.Zero)) return T.Zero;
        return p.Group == 1 ? gradY[at] : gradY[at / p.Group] * invGroup;
    }

    // Element e ∈ [0, B·L) of channel ch: x[b, ch, l] with b = e / L, l = e % L.
    private static int Index(int e, int ch, ChannelArgs p)
    {
        int b = e / p.L;
        return (b * p.C + ch) * p.L + (e - b * p.L);
    }
}
