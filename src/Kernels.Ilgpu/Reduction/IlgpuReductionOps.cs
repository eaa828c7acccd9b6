using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>Launchers for <see cref="ReductionKernels"/>: picks row groups or per-output threads by shape.</summary>
internal sealed class IlgpuReductionOps(IlgpuBackend backend) : IReductionOps
{
    // Rows shorter than this are reduced by one thread each (no barriers, full occupancy).
    private const int MinGroupRow = 64;

    public void Reduce(ReduceOp op, Tensor x, int axis, Tensor y)
    {
        backend.RequireFloat(op.ToString(), x.DType);
        if (x.DType == DType.Float32) ReduceTyped<float, F32>(op, x, axis, y);
        else ReduceTyped<double, F64>(op, x, axis, y);
    }

    public void ArgMax(Tensor x, int axis, Tensor indices)
    {
        backend.RequireFloat("ArgMax", x.DType);
        if (x.DType == DType.Float32) ArgMaxTyped<float, F32>(x, axis, indices);
        else ArgMaxTyped<double, F64>(x, axis, indices);
    }

    private void ReduceTyped<T, TS>(ReduceOp op, Tensor x, int axis, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        string name = op.ToString();
        var (outer, n, inner) = IlgpuTensor.AroundAxis(x.Shape, axis);
        if ((long)outer * inner == 0) return;
        var xs = IlgpuTensor.Dense<T>(x, backend, name);
        var ys = IlgpuTensor.Dense<T>(y, backend, name);
        if (inner == 1 && n >= MinGroupRow)
        {
            var rows = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, int, ReduceOp>>(
                ReductionKernels.ReduceRows<T, TS>);
            rows(backend.Stream, new KernelConfig(outer, backend.RowGroupSize), xs, ys, n, op);
            return;
        }
        var columns = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, int, int, ReduceOp>>(
            ReductionKernels.ReduceColumns<T, TS>);
        columns(backend.Stream, outer * inner, xs, ys, n, inner, op);
    }

    private void ArgMaxTyped<T, TS>(Tensor x, int axis, Tensor indices)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var (outer, n, inner) = IlgpuTensor.AroundAxis(x.Shape, axis);
        if ((long)outer * inner == 0 || n == 0) return;
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, int, int>>(
            ReductionKernels.ArgMax<T, TS>);
        kernel(backend.Stream, outer * inner, IlgpuTensor.Dense<T>(x, backend, "ArgMax"), IlgpuTensor.Dense<int>(indices, backend, "ArgMax"), n, inner);
    }
}
