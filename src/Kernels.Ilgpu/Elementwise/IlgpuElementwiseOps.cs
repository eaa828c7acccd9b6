using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>Launchers for <see cref="UnaryKernels"/> and <see cref="BinaryKernels"/> (float32, float64).</summary>
internal sealed class IlgpuElementwiseOps(IlgpuBackend backend) : IElementwiseOps
{
    public void Unary(UnaryOp op, Tensor x, Tensor y, double alpha = 0, double beta = 0)
    {
        backend.RequireFloat(op.ToString(), y.DType);
        if (y.DType == DType.Float32) UnaryTyped<float, F32>(op, x, y, alpha, beta);
        else UnaryTyped<double, F64>(op, x, y, alpha, beta);
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gradY, Tensor gradX, double alpha = 0, double beta = 0)
    {
        backend.RequireFloat(op + "Backward", gradX.DType);
        if (gradX.DType == DType.Float32) UnaryBackwardTyped<float, F32>(op, x, y, gradY, gradX, alpha, beta);
        else UnaryBackwardTyped<double, F64>(op, x, y, gradY, gradX, alpha, beta);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        backend.RequireFloat(op.ToString(), y.DType);
        if (y.DType == DType.Float32) BinaryTyped<float, F32>(op, a, b, y);
        else BinaryTyped<double, F64>(op, a, b, y);
    }

    public void Where(Tensor condition, Tensor a, Tensor b, Tensor y)
    {
        backend.RequireFloat("Where", y.DType);
        if (y.DType == DType.Float32) WhereTyped<float, F32>(condition, a, b, y);
        else WhereTyped<double, F64>(condition, a, b, y);
    }

    private void UnaryTyped<T, TS>(UnaryOp op, Tensor x, Tensor y, double alpha, double beta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        string name = op.ToString();
        if (y.Numel == 0) return;
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, UnaryArgs<T>>>(
            UnaryKernels.Forward<T, TS>);
        var args = new UnaryArgs<T> { Op = op, Alpha = TS.FromDouble(alpha), Beta = TS.FromDouble(beta) };
        kernel(backend.Stream, (int)y.Numel, IlgpuTensor.Dense<T>(x, backend, name), IlgpuTensor.Dense<T>(y, backend, name), args);
    }

    private void UnaryBackwardTyped<T, TS>(UnaryOp op, Tensor x, Tensor y, Tensor gradY, Tensor gradX, double alpha, double beta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        string name = op + "Backward";
        if (gradX.Numel == 0) return;
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, UnaryArgs<T>>>(
            UnaryKernels.Backward<T, TS>);
        var args = new UnaryArgs<T> { Op = op, Alpha = TS.FromDouble(alpha), Beta = TS.FromDouble(beta) };
        kernel(backend.Stream, (int)gradX.Numel, IlgpuTensor.Dense<T>(x, backend, name), IlgpuTensor.Dense<T>(y, backend, name),
            IlgpuTensor.Dense<T>(gradY, backend, name), IlgpuTensor.Dense<T>(gradX, backend, name), args);
    }

    private void BinaryTyped<T, TS>(BinaryOp op, Tensor a, Tensor b, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        string name = op.ToString();
        if (y.Numel == 0) return;
        if (!y.IsContiguous) throw new ArgumentException($"{name}({backend.Name}): destination must be contiguous");
        var (dims, strides) = StridedLayout.Plan(name, backend.Name, a, b);
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6, int, BinaryOp>>(
            BinaryKernels.Binary<T, TS>);
        kernel(backend.Stream, (int)y.Numel, IlgpuTensor.Whole<T>(a, backend, name), IlgpuTensor.Whole<T>(b, backend, name),
            IlgpuTensor.Whole<T>(y, backend, name), dims, strides[0], strides[1], y.Offset, op);
    }

    private void WhereTyped<T, TS>(Tensor condition, Tensor a, Tensor b, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string name = "Where";
        if (y.Numel == 0) return;
        if (!y.IsContiguous) throw new ArgumentException($"{name}({backend.Name}): destination must be contiguous");
        var (dims, strides) = StridedLayout.Plan(name, backend.Name, condition, a, b);
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6, Strides6, int>>(
            BinaryKernels.Where<T, TS>);
        kernel(backend.Stream, (int)y.Numel, IlgpuTensor.Whole<T>(condition, backend, name), IlgpuTensor.Whole<T>(a, backend, name),
            IlgpuTensor.Whole<T>(b, backend, name), IlgpuTensor.Whole<T>(y, backend, name), dims, strides[0], strides[1], strides[2], y.Offset);
    }
}
