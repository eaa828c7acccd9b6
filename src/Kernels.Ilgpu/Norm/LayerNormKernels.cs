namespace Hep.Kernels.Ilgpu;

/// <summary>Row count, row length, ε and which affine parameters are present.</summary>
internal struct LayerNormArgs<T> where T : unmanaged
{
    public int Rows, N;
    public T Eps;
    public int HasGamma, HasBeta;
}

/// <summary>
/// Layer norm over the last axis of contiguous x (rows, n).
/// Thread mapping: one group per row, or one thread per row for short rows (…PerThread, n &lt; 32);
/// both run the same row body.
///   Forward   per row: μ = Σx/n, σ² = Σ(x − μ)²/n (two passes), rstd = 1/√(σ² + ε),
///             y = (x − μ)·rstd·γ + β; writes mean and rstd (rows).
///   Backward  per row: x̂ = (x − μ)·rstd, ĝ = g·γ,
///             gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)).
///   ParamGrad one group per column j: dγ[j] += Σ_rows g·x̂, dβ[j] += Σ_rows g (no atomics).
/// Absent γ/β are passed as a placeholder view with the Has* flag 0. Deterministic.
/// </summary>
internal static class LayerNormKernels
{
    [KernelEntry]
    public static void Forward<T, TS>(ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> beta, ArrayView<T> y, ArrayView<T> mean,
        ArrayView<T> rstd, LayerNormArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(LaunchMath.MaxGroupSize);
        ForwardRow<T, TS, GroupRows<T>>(x, gamma, beta, y, mean, rstd, p, Grid.IdxX, Group.IdxX, Group.DimX, scratch);
    }

    [KernelEntry]
    public static void ForwardPerThread<T, TS>(Index1D row, ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> beta, ArrayView<T> y,
        ArrayView<T> mean, ArrayView<T> rstd, LayerNormArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        ForwardRow<T, TS, ThreadRows<T>>(x, gamma, beta, y, mean, rstd, p, row, 0, 1, default);
    }

    [KernelEntry]
    public static void Backward<T, TS>(ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> mean, ArrayView<T> rstd, ArrayView<T> gradY,
        ArrayView<T> gradX, LayerNormArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(2 * LaunchMath.MaxGroupSize);
        BackwardRow<T, TS, GroupRows<T>>(x, gamma, mean, rstd, gradY, gradX, p, Grid.IdxX, Group.IdxX, Group.DimX, scratch);
    }

    [KernelEntry]
    public static void BackwardPerThread<T, TS>(Index1D row, ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> mean, ArrayView<T> rstd,
        ArrayView<T> gradY, ArrayView<T> gradX, LayerNormArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        BackwardRow<T, TS, ThreadRows<T>>(x, gamma, mean, rstd, gradY, gradX, p, row, 0, 1, default);
    }

    // Row `row`; this lane handles k = lane, lane + stride, …
    private static void ForwardRow<T, TS, TR>(ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> beta, ArrayView<T> y, ArrayView<T> mean,
        ArrayView<T> rstd, LayerNormArgs<T> p, int row, int lane, int stride, ArrayView<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
        where TR : struct, IRowReducer<T>
    {
        int start = row * p.N;
        T invN = T.One / TS.FromInt(p.N);
        T sum = T.Zero;
        for (int k = lane; k < p.N; k += stride) sum += x[start + k];
        T mu = TR.Sum(scratch, sum) * invN;
        T sq = T.Zero;
        for (int k = lane; k < p.N; k += stride)
        {
            T d = x[start + k] - mu;
            sq += d * d;
        }
        T inv = T.One / T.Sqrt(TR.Sum(scratch, sq) * invN + p.Eps);
        for (int k = lane; k < p.N; k += stride)
        {
            T v = (x[start + k] - mu) * inv;
            if (p.HasGamma != 0) v *= gamma[k];
            if (p.HasBeta != 0) v += beta[k];
            y[start + k] = v;
        }
        if (lane == 0)
        {
            mean[row] = mu;
            rstd[row] = inv;
        }
    }

    private static void BackwardRow<T, TS, TR>(ArrayView<T> x, ArrayView<T> gamma, ArrayView<T> mean, ArrayView<T> rstd, ArrayView<T> gradY,
        ArrayView<T> gradX, LayerNormArgs<T> p, int row, int lane, int stride, ArrayView<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
        where TR : struct, IRowReducer<T>
    {
        int start = row * p.N;
        T invN = T.One / TS.FromInt(p.N);
        T mu = mean[row], inv = rstd[row];
        T sumG = T.Zero, sumGX = T.Zero;
        for (int k = lane; k < p.N; k += stride)
        {
            T xhat = (x[start + k] - mu) * inv;
            T ghat = p.HasGamma != 0 ? gradY[start + k] * gamma[k] : gradY[start + k];
            sumG += ghat;
            sumGX += ghat * xhat;
        }
        var (totalG, totalGX) = TR.Sum2(scratch, sumG, sumGX);
        T meanG = totalG * invN, meanGX = totalGX * invN;
        for (int k = lane; k < p.N; k += stride)
        {
            T xhat = (x[start + k] - mu) * inv;
            T ghat = p.HasGamma != 0 ? gradY[start + k] * gamma[k] : gradY[start + k];
            gradX[start + k] = (xhat * -meanGX + ghat - meanG) * inv;
        }
    }

    [KernelEntry]
    public static void ParamGrad<T, TS>(ArrayView<T> x, ArrayView<T> mean, ArrayView<T> rstd, ArrayView<T> gradY, ArrayView<T> gradGamma,
        ArrayView<T> gradBeta, LayerNormArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var scratch = SharedMemory.Allocate1D<T>(2 * LaunchMath.MaxGroupSize);
        int t = Group.IdxX, g = Group.DimX, j = Grid.IdxX;
        T sumGX = T.Zero, sumG = T.Zero;
        for (int r = t; r < p.Rows; r += g)
        {
            T gy = gradY[r * p.N + j];
            sumGX += gy * ((x[r * p.N + j] - mean[r]) * rstd[r]);
            sumG += gy;
        }
        var (totalGX, totalG) = GroupReduce.Sum2(scratch, sumGX, sumG);
        if (t == 0)
        {
            if (p.HasGamma != 0) gradGamma[j] += totalGX;
            if (p.HasBeta != 0) gradBeta[j] += totalG;
        }
    }
}
