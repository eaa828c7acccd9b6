using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>Launchers for <see cref="SoftmaxKernels"/>, <see cref="LayerNormKernels"/> and <see cref="BatchNormKernels"/>.</summary>
internal sealed class IlgpuNormOps(IlgpuBackend backend) : INormOps
{
    public void SoftmaxForward(Tensor x, Tensor y, bool log)
    {
        backend.RequireFloat("Softmax", y.DType);
        if (y.DType == DType.Float32) SoftmaxTyped<float, F32>(x, y, log);
        else SoftmaxTyped<double, F64>(x, y, log);
    }

    public void SoftmaxBackward(Tensor y, Tensor gradY, Tensor gradX, bool log)
    {
        backend.RequireFloat("SoftmaxBackward", y.DType);
        if (y.DType == DType.Float32) SoftmaxBackwardTyped<float, F32>(y, gradY, gradX, log);
        else SoftmaxBackwardTyped<double, F64>(y, gradY, gradX, log);
    }

    public void LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, double eps, Tensor y, Tensor mean, Tensor rstd)
    {
        backend.RequireFloat("LayerNorm", x.DType);
        if (x.DType == DType.Float32) LayerNormTyped<float, F32>(x, gamma, beta, eps, y, mean, rstd);
        else LayerNormTyped<double, F64>(x, gamma, beta, eps, y, mean, rstd);
    }

    public void LayerNormBackward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gradY, Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
    {
        backend.RequireFloat("LayerNormBackward", x.DType);
        if (x.DType == DType.Float32) LayerNormBackwardTyped<float, F32>(x, gamma, mean, rstd, gradY, gradX, gradGamma, gradBeta);
        else LayerNormBackwardTyped<double, F64>(x, gamma, mean, rstd, gradY, gradX, gradGamma, gradBeta);
    }

    public void ChannelMoments(Tensor x, Tensor mean, Tensor variance)
    {
        backend.RequireFloat("BatchNormMoments", x.DType);
        if (x.DType == DType.Float32) MomentsTyped<float, F32>(x, mean, variance);
        else MomentsTyped<double, F64>(x, mean, variance);
    }

    public void ChannelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y)
    {
        backend.RequireFloat("ChannelAffine", x.DType);
        if (x.DType == DType.Float32) AffineTyped<float, F32>(x, scale, shift, y);
        else AffineTyped<double, F64>(x, scale, shift, y);
    }

    public void BatchNormBackward(Tensor x, Tensor mean, Tensor invStd, Tensor? gamma, Tensor gradY, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
    {
        backend.RequireFloat("BatchNormBackward", x.DType);
        if (x.DType == DType.Float32) BatchNormBackwardTyped<float, F32>(x, mean, invStd, gamma, gradY, training, gradX, gradGamma, gradBeta);
        else BatchNormBackwardTyped<double, F64>(x, mean, invStd, gamma, gradY, training, gradX, gradGamma, gradBeta);
    }

    public void ChannelAffineRelu(Tensor x, Tensor scale, Tensor shift, int group, Tensor y)
    {
        backend.RequireFloat("BatchNormRelu", x.DType);
        if (x.DType == DType.Float32) AffineReluTyped<float, F32>(x, scale, shift, group, y);
        else AffineReluTyped<double, F64>(x, scale, shift, group, y);
    }

    public void BatchNormReluForward(Tensor x, Tensor? gamma, Tensor? beta, double eps, int group, Tensor y,
        Tensor mean, Tensor variance, Tensor invStd, Tensor scale, Tensor shift)
    {
        backend.RequireFloat("BatchNormRelu", x.DType);
        if (x.DType == DType.Float32) BatchNormReluForwardTyped<float, F32>(x, gamma, beta, eps, group, y, mean, variance, invStd, scale, shift);
        else BatchNormReluForwardTyped<double, F64>(x, gamma, beta, eps, group, y, mean, variance, invStd, scale, shift);
    }

    public void BatchNormReluBackward(Tensor x, Tensor mean, Tensor invStd, Tensor scale, Tensor shift, Tensor gradY, int group, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
    {
        backend.RequireFloat("BatchNormReluBackward", x.DType);
        if (x.DType == DType.Float32) BatchNormReluBackwardTyped<float, F32>(x, mean, invStd, scale, shift, gradY, group, training, gradX, gradGamma, gradBeta);
        else BatchNormReluBackwardTyped<double, F64>(x, mean, invStd, scale, shift, gradY, group, training, gradX, gradGamma, gradBeta);
    }

    // Rows shorter than this are handled by one thread each (no barriers, all lanes busy).
    private const int MinGroupRow = 32;

    private KernelConfig Rows(int rows) => new(rows, backend.RowGroupSize);

    private ArrayView<T> View<T>(Tensor t, string op) where T : unmanaged => IlgpuTensor.Dense<T>(t, backend, op);

    // An absent optional operand is passed as a placeholder view; its Has* flag keeps it unread.
    private ArrayView<T> Optional<T>(Tensor? t, Tensor placeholder, string op) where T : unmanaged => View<T>(t ?? placeholder, op);

    private void SoftmaxTyped<T, TS>(Tensor x, Tensor y, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var (rows, n) = IlgpuTensor.Rows(x);
        if (rows == 0) return;
        if (n < MinGroupRow)
        {
            var perThread = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, int, int>>(
                SoftmaxKernels.ForwardPerThread<T, TS>);
            perThread(backend.Stream, rows, View<T>(x, "Softmax"), View<T>(y, "Softmax"), n, log ? 1 : 0);
            return;
        }
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, int, int>>(
            SoftmaxKernels.Forward<T, TS>);
        kernel(backend.Stream, Rows(rows), View<T>(x, "Softmax"), View<T>(y, "Softmax"), n, log ? 1 : 0);
    }

    private void SoftmaxBackwardTyped<T, TS>(Tensor y, Tensor gradY, Tensor gradX, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "SoftmaxBackward";
        var (rows, n) = IlgpuTensor.Rows(y);
        if (rows == 0) return;
        if (n < MinGroupRow)
        {
            var perThread = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int>>(
                SoftmaxKernels.BackwardPerThread<T, TS>);
            perThread(backend.Stream, rows, View<T>(y, op), View<T>(gradY, op), View<T>(gradX, op), n, log ? 1 : 0);
            return;
        }
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int>>(
            SoftmaxKernels.Backward<T, TS>);
        kernel(backend.Stream, Rows(rows), View<T>(y, op), View<T>(gradY, op), View<T>(gradX, op), n, log ? 1 : 0);
    }

    private void LayerNormTyped<T, TS>(Tensor x, Tensor? gamma, Tensor? beta, double eps, Tensor y, Tensor mean, Tensor rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "LayerNorm";
        var (rows, n) = IlgpuTensor.Rows(x);
        if (rows == 0) return;
        var args = new LayerNormArgs<T> { Rows = rows, N = n, Eps = TS.FromDouble(eps), HasGamma = gamma is null ? 0 : 1, HasBeta = beta is null ? 0 : 1 };
        if (n < MinGroupRow)
        {
            var perThread = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, LayerNormArgs<T>>>(
                LayerNormKernels.ForwardPerThread<T, TS>);
            perThread(backend.Stream, rows, View<T>(x, op), Optional<T>(gamma, x, op), Optional<T>(beta, x, op), View<T>(y, op),
                View<T>(mean, op), View<T>(rstd, op), args);
            return;
        }
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, LayerNormArgs<T>>>(
            LayerNormKernels.Forward<T, TS>);
        kernel(backend.Stream, Rows(rows), View<T>(x, op), Optional<T>(gamma, x, op), Optional<T>(beta, x, op), View<T>(y, op),
            View<T>(mean, op), View<T>(rstd, op), args);
    }

    private void LayerNormBackwardTyped<T, TS>(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gradY, Tensor gradX,
        Tensor? gradGamma, Tensor? gradBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "LayerNormBackward";
        var (rows, n) = IlgpuTensor.Rows(x);
        if (rows == 0) return;
        var args = new LayerNormArgs<T> { Rows = rows, N = n, HasGamma = gamma is null ? 0 : 1 };
        if (n < MinGroupRow)
        {
            var perThread = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, LayerNormArgs<T>>>(
                LayerNormKernels.BackwardPerThread<T, TS>);
            perThread(backend.Stream, rows, View<T>(x, op), Optional<T>(gamma, x, op), View<T>(mean, op), View<T>(rstd, op),
                View<T>(gradY, op), View<T>(gradX, op), args);
        }
        else
        {
            var rowsKernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, LayerNormArgs<T>>>(
                LayerNormKernels.Backward<T, TS>);
            rowsKernel(backend.Stream, Rows(rows), View<T>(x, op), Optional<T>(gamma, x, op), View<T>(mean, op), View<T>(rstd, op),
                View<T>(gradY, op), View<T>(gradX, op), args);
        }
        if (gradGamma is null && gradBeta is null) return;
        args.HasGamma = gradGamma is null ? 0 : 1;
        args.HasBeta = gradBeta is null ? 0 : 1;
        var columns = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, LayerNormArgs<T>>>(
            LayerNormKernels.ParamGrad<T, TS>);
        columns(backend.Stream, Rows(n), View<T>(x, op), View<T>(mean, op), View<T>(rstd, op), View<T>(gradY, op),
            Optional<T>(gradGamma, gradX, op), Optional<T>(gradBeta, gradX, op), args);
    }

    private static ChannelArgs Channels(Tensor x, string op)
    {
        if (x.Rank < 2) throw new ArgumentException($"{op}: expects (B, C[, L]) input, got {x.Shape}");
        int b = x.Shape[0], c = x.Shape[1];
        int l = b * c == 0 ? 0 : (int)(x.Numel / ((long)b * c));
        return new ChannelArgs { B = b, C = c, L = l };
    }

    private void MomentsTyped<T, TS>(Tensor x, Tensor mean, Tensor variance)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "BatchNormMoments";
        var p = Channels(x, op);
        if (p.C == 0) return;
        if (p.L == 0) p.L = 1; // empty batch: loops run zero times, the moments are 0
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ChannelArgs>>(
            BatchNormKernels.Moments<T, TS>);
        kernel(backend.Stream, Rows(p.C), View<T>(x, op), View<T>(mean, op), View<T>(variance, op), p);
    }

    private void AffineTyped<T, TS>(Tensor x, Tensor scale, Tensor shift, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "ChannelAffine";
        var p = Channels(x, op);
        if (x.Numel == 0) return;
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ChannelArgs>>(
            BatchNormKernels.Affine<T, TS>);
        kernel(backend.Stream, (int)x.Numel, View<T>(x, op), View<T>(scale, op), View<T>(shift, op), View<T>(y, op), p);
    }

    private void BatchNormBackwardTyped<T, TS>(Tensor x, Tensor mean, Tensor invStd, Tensor? gamma, Tensor gradY, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "BatchNormBackward";
        var p = Channels(x, op);
        if (p.C == 0) return;
        if (p.L == 0) p.L = 1;
        p.Training = training ? 1 : 0;
        p.HasGamma = gamma is null ? 0 : 1;
        p.HasGradGamma = gradGamma is null ? 0 : 1;
        p.HasGradBeta = gradBeta is null ? 0 : 1;
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ChannelArgs>>(
            BatchNormKernels.Backward<T, TS>);
        kernel(backend.Stream, Rows(p.C), View<T>(x, op), View<T>(mean, op), View<T>(invStd, op), Optional<T>(gamma, mean, op),
            View<T>(gradY, op), View<T>(gradX, op), Optional<T>(gradGamma, mean, op), Optional<T>(gradBeta, mean, op), p);
    }

    private static ChannelArgs GroupedChannels(Tensor x, int group, string op)
    {
        var p = Channels(x, op);
        if (group < 1 || (p.L > 0 && p.L % group != 0)) throw new ArgumentException($"{op}: group {group} must divide the row length {p.L}");
        p.Group = group;
        return p;
    }

    private void AffineReluTyped<T, TS>(Tensor x, Tensor scale, Tensor shift, int group, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "BatchNormRelu";
        var p = GroupedChannels(x, group, op);
        if (x.Numel == 0) return;
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ChannelArgs>>(
            BatchNormKernels.AffineRelu<T, TS>);
        kernel(backend.Stream, (int)(x.Numel / group), View<T>(x, op), View<T>(scale, op), View<T>(shift, op), View<T>(y, op), p);
    }

    private void BatchNormReluBackwardTyped<T, TS>(Tensor x, Tensor mean, Tensor invStd, Tensor scale, Tensor shift, Tensor gradY, int group,
        bool training, Tensor gradX, Tensor? gradGamma, Tensor? gradBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "BatchNormReluBackward";
        var p = GroupedChannels(x, group, op);
        if (p.C == 0) return;
        if (p.L == 0) p.L = 1;
        p.Training = training ? 1 : 0;
        p.HasGradGamma = gradGamma is null ? 0 : 1;
        p.HasGradBeta = gradBeta is null ? 0 : 1;
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ChannelArgs>>(
            BatchNormKernels.ReluBackward<T, TS>);
        kernel(backend.Stream, Rows(p.C), View<T>(x, op), View<T>(mean, op), View<T>(invStd, op), View<T>(scale, op), View<T>(shift, op),
            View<T>(gradY, op), View<T>(gradX, op), Optional<T>(gradGamma, mean, op), Optional<T>(gradBeta, mean, op), p);
    }

    private void BatchNormReluForwardTyped<T, TS>(Tensor x, Tensor? gamma, Tensor? beta, double eps, int group, Tensor y,
        Tensor mean, Tensor variance, Tensor invStd, Tensor scale, Tensor shift)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "BatchNormRelu";
        var p = GroupedChannels(x, group, op);
        if (p.C == 0) return;
        if (p.L == 0) p.L = 1;
        p.HasGamma = gamma is null ? 0 : 1;
        p.HasBeta = beta is null ? 0 : 1;
        p.Eps = eps;
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ChannelArgs>>(
            BatchNormKernels.MomentsAffineRelu<T, TS>);
        kernel(backend.Stream, Rows(p.C), View<T>(x, op), Optional<T>(gamma, mean, op), Optional<T>(beta, mean, op), View<T>(y, op), View<T>(mean, op),
            View<T>(variance, op), View<T>(invStd, op), View<T>(scale, op), View<T>(shift, op), p);
    }
}
