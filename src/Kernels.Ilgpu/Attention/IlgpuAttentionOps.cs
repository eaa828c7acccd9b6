using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>Launchers for <see cref="MaskedSoftmaxKernels"/> and <see cref="FlashAttentionKernels"/>.</summary>
internal sealed class IlgpuAttentionOps(IlgpuBackend backend) : IAttentionOps
{
    // Rows shorter than this are handled by one thread each (as the plain softmax).
    private const int MinGroupRow = 32;

    // Attention groups: at most 64 query (or key) threads, so a 128-particle jet fills two groups per head.
    private int AttentionGroup => Math.Min(backend.RowGroupSize, 64);

    private ArrayView<T> View<T>(Tensor t, string op) where T : unmanaged => IlgpuTensor.Dense<T>(t, backend, op);

    public void MaskedSoftmaxForward(Tensor x, Tensor? mask, Tensor y)
    {
        backend.RequireFloat("MaskedSoftmax", x.DType);
        if (x.DType == DType.Float32) MaskedTyped<float, F32>(x, mask, y);
        else MaskedTyped<double, F64>(x, mask, y);
    }

    public void MaskedSoftmaxBackward(Tensor y, Tensor gradY, Tensor gradX)
    {
        backend.RequireFloat("MaskedSoftmaxBackward", y.DType);
        backend.Norm.SoftmaxBackward(y, gradY, gradX, log: false);
    }

    public void AttentionForward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp)
    {
        backend.RequireFloat("AttentionForward", q.DType);
        if (q.DType == DType.Float32) ForwardTyped<float, F32>(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp);
        else ForwardTyped<double, F64>(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp);
    }

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? keyPaddingMask, double scale, AttentionDropout dropout,
        Tensor output, Tensor logSumExp, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV, Tensor? gradBias)
    {
        backend.RequireFloat("AttentionBackward", q.DType);
        if (q.DType == DType.Float32)
            BackwardTyped<float, F32>(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp, gradOutput, gradQ, gradK, gradV, gradBias);
        else BackwardTyped<double, F64>(q, k, v, bias, keyPaddingMask, scale, dropout, output, logSumExp, gradOutput, gradQ, gradK, gradV, gradBias);
    }

    private void MaskedTyped<T, TS>(Tensor x, Tensor? mask, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "MaskedSoftmax";
        var (rows, n) = IlgpuTensor.Rows(x);
        if (rows == 0) return;
        var p = new MaskedRowArgs { N = n, Lead = new Dims6 { D0 = 1, D1 = 1, D2 = 1, D3 = 1, D4 = 1, D5 = 1 } };
        ArrayView<T> maskView = View<T>(x, op);
        if (mask is not null)
        {
            int lead = x.Rank - 1;
            if (lead > StridedLayout.MaxRank)
                throw new BackendNotSupportedException(op, backend.Name, $"masks of rank {x.Rank} > {StridedLayout.MaxRank + 1}");
            var dims = new int[StridedLayout.MaxRank];
            var strides = new int[StridedLayout.MaxRank];
            for (int a = 0; a < StridedLayout.MaxRank; a++)
            {
                int axis = a - (StridedLayout.MaxRank - lead);
                dims[a] = axis >= 0 ? x.Shape[axis] : 1;
                strides[a] = axis >= 0 ? mask.Strides[axis] : 0;
            }
            int step = n == 1 ? 0 : mask.Strides[^1];
            if (step is not (0 or 1)) throw new ArgumentException($"{op}: mask's last axis must have stride 1 or 0, got {step}");
            p.Lead = new Dims6 { D0 = dims[0], D1 = dims[1], D2 = dims[2], D3 = dims[3], D4 = dims[4], D5 = dims[5] };
            p.Mask = new Strides6 { Offset = mask.Offset, S0 = strides[0], S1 = strides[1], S2 = strides[2], S3 = strides[3], S4 = strides[4], S5 = strides[5] };
            p.Step = step;
            p.HasMask = 1;
            maskView = IlgpuTensor.Whole<T>(mask, backend, op);
        }
        if (n < MinGroupRow)
        {
            var perThread = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, MaskedRowArgs>>(
                MaskedSoftmaxKernels.ForwardPerThread<T, TS>);
            perThread(backend.Stream, rows, View<T>(x, op), maskView, View<T>(y, op), p);
            return;
        }
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, MaskedRowArgs>>(
            MaskedSoftmaxKernels.Forward<T, TS>);
        kernel(backend.Stream, new KernelConfig(rows, backend.RowGroupSize), View<T>(x, op), maskView, View<T>(y, op), p);
    }

    private AttentionArgs<T> Args<T, TS>(string op, Tensor q, Tensor k, Tensor? bias, Tensor? mask, double scale, AttentionDropout dropout, int rowsPerTile)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int d = q.Shape[3];
        if (d > FlashAttentionKernels.MaxD)
            throw new BackendNotSupportedException(op, backend.Name, $"head dim {d} > {FlashAttentionKernels.MaxD}");
        return new AttentionArgs<T>
        {
            B = q.Shape[0], H = q.Shape[1], Nq = q.Shape[2], Nk = k.Shape[2], D = d,
            Tiles = LaunchMath.CeilDiv(rowsPerTile, AttentionGroup),
            HasBias = bias is null ? 0 : 1, HasMask = mask is null ? 0 : 1, Scale = TS.FromDouble(scale),
            Dropout = dropout.Active ? 1 : 0, DropThreshold = dropout.Threshold, DropSeed = dropout.Seed,
            KeepScale = TS.FromDouble(dropout.KeepScale),
        };
    }

    private void ForwardTyped<T, TS>(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? mask, double scale, AttentionDropout dropout, Tensor output, Tensor lse)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "AttentionForward";
        var p = Args<T, TS>(op, q, k, bias, mask, scale, dropout, q.Shape[2]);
        if ((long)p.B * p.H * p.Nq == 0) return;
        var qv = View<T>(q, op);
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            ArrayView<T>, ArrayView<T>, AttentionArgs<T>>>(FlashAttentionKernels.Forward<T, TS>);
        kernel(backend.Stream, new KernelConfig(p.B * p.H * p.Tiles, AttentionGroup), qv, View<T>(k, op), View<T>(v, op),
            bias is null ? qv : View<T>(bias, op), mask is null ? qv : View<T>(mask, op), View<T>(output, op), View<T>(lse, op), p);
    }

    private void BackwardTyped<T, TS>(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? mask, double scale, AttentionDropout dropout, Tensor output, Tensor lse,
        Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV, Tensor? gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "AttentionBackward";
        int b = q.Shape[0], h = q.Shape[1], nq = q.Shape[2], nk = k.Shape[2], d = q.Shape[3];
        if ((long)b * h == 0) return;
        var qv = View<T>(q, op);
        var kv = View<T>(k, op);
        var vv = View<T>(v, op);
        var biasView = bias is null ? qv : View<T>(bias, op);
        var maskView = mask is null ? qv : View<T>(mask, op);
        var lv = View<T>(lse, op);
        var go = View<T>(gradOutput, op);
        using var delta = Tensor.Zeros(backend, new Shape(b, h, Math.Max(nq, 1)), q.DType);
        var dv = View<T>(delta, op);
        if (nq > 0)
        {
            var deltaKernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, int>>(
                FlashAttentionKernels.Delta<T, TS>);
            deltaKernel(backend.Stream, b * h * nq, View<T>(output, op), go, dv, d);
            var p = Args<T, TS>(op, q, k, bias, mask, scale, dropout, nq);
            p.HasGradBias = gradBias is null ? 0 : 1;
            var query = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
                ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, AttentionArgs<T>>>(FlashAttentionKernels.BackwardQuery<T, TS>);
            query(backend.Stream, new KernelConfig(b * h * p.Tiles, AttentionGroup), qv, kv, vv, biasView, maskView, lv, go, dv,
                View<T>(gradQ, op), gradBias is null ? qv : View<T>(gradBias, op), p);
        }
        if (nk > 0)
        {
            var p = Args<T, TS>(op, q, k, bias, mask, scale, dropout, nk);
            var key = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
                ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, AttentionArgs<T>>>(FlashAttentionKernels.BackwardKey<T, TS>);
            key(backend.Stream, new KernelConfig(b * h * p.Tiles, AttentionGroup), qv, kv, vv, biasView, maskView, lv, go, dv,
                View<T>(gradK, op), View<T>(gradV, op), p);
        }
    }
}
