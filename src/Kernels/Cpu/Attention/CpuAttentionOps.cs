using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// Attention kernels on the CPU (float32/float64): <see cref="MaskedSoftmaxRows{T}"/> and
/// <see cref="FlashAttention{T}"/> hold the kernels; this class only dispatches on dtype.
/// </summary>
internal sealed class CpuAttentionOps : IAttentionOps
{
    public void MaskedSoftmaxForward(Tensor x, Tensor? mask, Tensor y) => Dispatch("MaskedSoftmax", x.DType,
        () => MaskedSoftmaxRows<float>.Forward(x, mask, y), () => MaskedSoftmaxRows<double>.Forward(x, mask, y));

    public void MaskedSoftmaxBackward(Tensor y, Tensor gradY, Tensor gradX) => Dispatch("MaskedSoftmaxBackward", y.DType,
        () => MaskedSoftmaxRows<float>.Backward(y, gradY, gradX), () => MaskedSoftmaxRows<double>.Backward(y, gradY, gradX));

    public void AttentionForward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp) => Dispatch("AttentionForward", q.DType,
        () => FlashAttention<float>.Forward(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp),
        () => FlashAttention<double>.Forward(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp));

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV, Tensor? gradBias) =>
        Dispatch("AttentionBackward", q.DType,
            () => FlashAttention<float>.Backward(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp, gradOutput, gradQ, gradK, gradV, gradBias),
            () => FlashAttention<double>.Backward(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp, gradOutput, gradQ, gradK, gradV, gradBias));

    private static void Dispatch(string op, DType dtype, Action f32, Action f64)
    {
        if (dtype == DType.Float32) f32();
        else if (dtype == DType.Float64) f64();
        else throw new BackendNotSupportedException(op, "cpu", $"dtype {dtype}");
    }
}
