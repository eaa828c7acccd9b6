namespace Hep.Kernels.Ilgpu;

/// <summary>Layout of x viewed as (B, C, L) and the batch-norm flags.</summary>
internal struct ChannelArgs
{
    public int B, C, L;
    public int Training, HasGamma, HasGradGamma, HasGradBeta;
}

/// <summary>
/// Batch-norm kernels for contiguous x viewed as (B, C, L) (L = 1 for dense (N, C) features).
///   Moments  one group per channel: two-pass mean and biased variance over the B·L values.
///   Affine   one thread per element: y = x·scale[c] + shift[c].
///   Backward one group per channel: Σg and Σg·x̂ (x̂ = (x − μ)·invStd), then
///            training gx = γ·invStd·(g − mean(g) − x̂·mean(g·x̂)), eval gx = γ·invStd·g;
///            dγ[c] += Σg·x̂, dβ[c] += Σg written by thread 0 (no atomics).
/// Deterministic.
/// </summary>
internal static class BatchNormKernels
{
    [KernelEntry]
    public static void Moments<T, TS>(ArrayView<T> x, ArrayView<T> mean, ArrayView<T> variance, ChannelArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(LaunchMath.MaxGroupSize);
        int t = Group.IdxX, g = Group.DimX, ch = Grid.IdxX, count = p.B * p.L;
        T invCount = T.One / TS.FromInt(count > 1 ? count : 1);
        T sum = T.Zero;
        for (int e = t; e < count; e += g) sum += x[Index(e, ch, p)];
        T mu = GroupReduce.Sum(scratch, sum) * invCount;
        T sq = T.Zero;
        for (int e = t; e < count; e += g)
        {
            T d = x[Index(e, ch, p)] - mu;
            sq += d * d;
        }
        T variance0 = GroupReduce.Sum(scratch, sq) * invCount;
        if (t == 0)
        {
            mean[ch] = mu;
            variance[ch] = variance0;
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

    // Element e ∈ [0, B·L) of channel ch: x[b, ch, l] with b = e / L, l = e % L.
    private static int Index(int e, int ch, ChannelArgs p)
    {
        int b = e / p.L;
        return (b * p.C + ch) * p.L + (e - b * p.L);
    }
}
