using System.Numerics;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Softmax, layer norm and batch norm on the CPU (float32/float64). Row kernels live in
/// <see cref="SoftmaxRows{T}"/>, <see cref="LayerNormRows{T}"/> and <see cref="BatchNormChannels{T}"/>;
/// this class only dispatches on dtype.
/// </summary>
internal sealed class CpuNormOps : INormOps
{
    public void SoftmaxForward(Tensor x, Tensor y, bool log) => Dispatch("Softmax", y.DType,
        () => SoftmaxRows<float>.Forward(x, y, log), () => SoftmaxRows<double>.Forward(x, y, log));

    public void SoftmaxBackward(Tensor y, Tensor gradY, Tensor gradX, bool log) => Dispatch("SoftmaxBackward", y.DType,
        () => SoftmaxRows<float>.Backward(y, gradY, gradX, log), () => SoftmaxRows<double>.Backward(y, gradY, gradX, log));

    public void LayerNormForward(Tensor x, Tensor? gamma, Tensor? beta, double eps, Tensor y, Tensor mean, Tensor rstd) =>
        Dispatch("LayerNorm", x.DType,
            () => LayerNormRows<float>.Forward(x, gamma, beta, eps, y, mean, rstd),
            () => LayerNormRows<double>.Forward(x, gamma, beta, eps, y, mean, rstd));

    public void LayerNormBackward(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd, Tensor gradY, Tensor gradX, Tensor? gradGamma, Tensor? gradBeta) =>
        Dispatch("LayerNormBackward", x.DType,
            () => LayerNormRows<float>.Backward(x, gamma, mean, rstd, gradY, gradX, gradGamma, gradBeta),
            () => LayerNormRows<double>.Backward(x, gamma, mean, rstd, gradY, gradX, gradGamma, gradBeta));

    public void ChannelMoments(Tensor x, Tensor mean, Tensor variance) => Dispatch("BatchNormMoments", x.DType,
        () => BatchNormChannels<float>.Moments(x, mean, variance), () => BatchNormChannels<double>.Moments(x, mean, variance));

    public void ChannelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y) => Dispatch("ChannelAffine", x.DType,
        () => BatchNormChannels<float>.Affine(x, scale, shift, y), () => BatchNormChannels<double>.Affine(x, scale, shift, y));

    public void BatchNormBackward(Tensor x, Tensor mean, Tensor invStd, Tensor? gamma, Tensor gradY, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta) => Dispatch("BatchNormBackward", x.DType,
        () => BatchNormChannels<float>.Backward(x, mean, invStd, gamma, gradY, training, gradX, gradGamma, gradBeta),
        () => BatchNormChannels<double>.Backward(x, mean, invStd, gamma, gradY, training, gradX, gradGamma, gradBeta));

    public void ChannelAffineRelu(Tensor x, Tensor scale, Tensor shift, int group, Tensor y) => Dispatch("BatchNormRelu", x.DType,
        () => BatchNormChannels<float>.AffineRelu(x, scale, shift, group, y), () => BatchNormChannels<double>.AffineRelu(x, scale, shift, group, y));

    public void BatchNormReluForward(Tensor x, Tensor? gamma, Tensor? beta, double eps, int group, Tensor y,
        Tensor mean, Tensor variance, Tensor invStd, Tensor scale, Tensor shift) => Dispatch("BatchNormRelu", x.DType,
        () => BatchNormChannels<float>.MomentsAffineRelu(x, gamma, beta, eps, group, y, mean, variance, invStd, scale, shift),
        () => BatchNormChannels<double>.MomentsAffineRelu(x, gamma, beta, eps, group, y, mean, variance, invStd, scale, shift));

    public void BatchNormReluBackward(Tensor x, Tensor mean, Tensor invStd, Tensor scale, Tensor shift, Tensor gradY, int group, bool training,
        Tensor gradX, Tensor? gradGamma, Tensor? gradBeta) => Dispatch("BatchNormReluBackward", x.DType,
        () => BatchNormChannels<float>.ReluBackward(x, mean, invStd, scale, shift, gradY, group, training, gradX, gradGamma, gradBeta),
        () => BatchNormChannels<double>.ReluBackward(x, mean, invStd, scale, shift, gradY, group, training, gradX, gradGamma, gradBeta));

    private static void Dispatch(string op, DType dtype, Action f32, Action f64)
    {
        if (dtype == DType.Float32) f32();
        else if (dtype == DType.Float64) f64();
        else throw new BackendNotSupportedException(op, "cpu", $"dtype {dtype}");
    }
}
