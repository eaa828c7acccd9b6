using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Launchers for <see cref="IndexingKernels"/>. With <see cref="IlgpuBackend.ValidateIndices"/> on,
/// each launch clears a two-int report, and the host reads it back afterwards (a stream sync) to
/// throw <see cref="ArgumentOutOfRangeException"/> naming the op, exactly like the CPU backend.
/// </summary>
internal sealed class IlgpuIndexingOps(IlgpuBackend backend) : IIndexingOps
{
    private readonly Lazy<MemoryBuffer1D<int, Stride1D.Dense>> _report = new(() => backend.Accelerator.Allocate1D<int>(2));

    public void IndexSelect(Tensor x, int axis, Tensor index, Tensor y)
    {
        var (outer, m, inner) = IlgpuTensor.AroundAxis(y.Shape, axis);
        var p = new AxisArgs { M = m, Inner = inner, OtherN = x.Shape[axis] };
        switch (x.DType)
        {
            case DType.Float32: Gather<float>("IndexSelect", IndexingKernels.IndexSelect<float>, x, index, y, p, axis); break;
            case DType.Float64: RequireF64("IndexSelect"); Gather<double>("IndexSelect", IndexingKernels.IndexSelect<double>, x, index, y, p, axis); break;
            default: Gather<int>("IndexSelect", IndexingKernels.IndexSelect<int>, x, index, y, p, axis); break;
        }
    }

    public void IndexAdd(Tensor source, int axis, Tensor index, Tensor y)
    {
        backend.RequireFloat("IndexAdd", source.DType);
        var (_, m, inner) = IlgpuTensor.AroundAxis(source.Shape, axis);
        var p = new AxisArgs { M = m, Inner = inner, OtherN = y.Shape[axis] };
        if (source.DType == DType.Float32) Scatter<float>("IndexAdd", IndexingKernels.IndexAdd<float, F32>, source, index, y, p, axis);
        else Scatter<double>("IndexAdd", IndexingKernels.IndexAdd<double, F64>, source, index, y, p, axis);
    }

    public void Gather(Tensor x, int axis, Tensor index, Tensor y)
    {
        var (_, m, inner) = IlgpuTensor.AroundAxis(index.Shape, axis);
        var p = new AxisArgs { M = m, Inner = inner, OtherN = x.Shape[axis] };
        switch (x.DType)
        {
            case DType.Float32: Gather<float>("Gather", IndexingKernels.Gather<float>, x, index, y, p, axis); break;
            case DType.Float64: RequireF64("Gather"); Gather<double>("Gather", IndexingKernels.Gather<double>, x, index, y, p, axis); break;
            default: Gather<int>("Gather", IndexingKernels.Gather<int>, x, index, y, p, axis); break;
        }
    }

    public void ScatterAdd(Tensor source, int axis, Tensor index, Tensor y)
    {
        backend.RequireFloat("ScatterAdd", source.DType);
        var (_, m, inner) = IlgpuTensor.AroundAxis(index.Shape, axis);
        var p = new AxisArgs { M = m, Inner = inner, OtherN = y.Shape[axis] };
        if (source.DType == DType.Float32) Scatter<float>("ScatterAdd", IndexingKernels.ScatterAdd<float, F32>, source, index, y, p, axis);
        else Scatter<double>("ScatterAdd", IndexingKernels.ScatterAdd<double, F64>, source, index, y, p, axis);
    }

    private void RequireF64(string op)
    {
        if (!backend.SupportsFloat64) throw new BackendNotSupportedException(op, backend.Name, "the device has no float64");
    }

    // Gathers walk y (IndexSelect: (outer, m, inner) of y; Gather: index's shape).
    private void Gather<T>(string op, Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, AxisArgs> kernel,
        Tensor x, Tensor index, Tensor y, AxisArgs p, int axis) where T : unmanaged
    {
        if (y.Numel == 0) return;
        var launch = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, AxisArgs>>(kernel);
        var report = ClearReport();
        launch(backend.Stream, (int)y.Numel, IlgpuTensor.Dense<T>(x, backend, op), IlgpuTensor.Dense<int>(index, backend, op),
            IlgpuTensor.Dense<T>(y, backend, op), report, p);
        CheckReport(op, p.OtherN, axis);
    }

    // Scatters walk the source (IndexAdd: (outer, m, inner) of the source; ScatterAdd: index's shape).
    private void Scatter<T>(string op, Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, AxisArgs> kernel,
        Tensor source, Tensor index, Tensor y, AxisArgs p, int axis) where T : unmanaged
    {
        if (source.Numel == 0) return;
        var launch = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, AxisArgs>>(kernel);
        var report = ClearReport();
        launch(backend.Stream, (int)source.Numel, IlgpuTensor.Dense<T>(source, backend, op), IlgpuTensor.Dense<int>(index, backend, op),
            IlgpuTensor.Dense<T>(y, backend, op), report, p);
        CheckReport(op, p.OtherN, axis);
    }

    private ArrayView<int> ClearReport()
    {
        var view = _report.Value.View.AsContiguous();
        if (backend.ValidateIndices) view.MemSetToZero(backend.Stream);
        return view;
    }

    private void CheckReport(string op, int limit, int axis)
    {
        if (!backend.ValidateIndices) return;
        var host = GC.AllocateArray<int>(2, pinned: true); // ILGPU copies through a raw pointer
        _report.Value.View.AsContiguous().CopyToCPU(backend.Stream, ref host[0], 2);
        backend.Stream.Synchronize();
        if (host[0] != 0)
            throw new ArgumentOutOfRangeException("index", $"{op}: index {host[1]} out of range [0, {limit}) on axis {axis}");
    }
}
