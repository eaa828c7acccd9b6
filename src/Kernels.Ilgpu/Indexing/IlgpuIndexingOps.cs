using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Launchers for <see cref="IndexingKernels"/>. With <see cref="IlgpuBackend.ValidateIndices"/> on,
/// each launch clears a two-int report, and the host reads it back afterwards (a stream sync) to
/// throw <see cref="ArgumentOutOfRangeException"/> naming the op, exactly like the CPU backend.
/// </summary>
internal sealed class IlgpuIndexingOps(IlgpuBackend backend) : IIndexingOps
{
    // Every indexing kernel: (element, first operand, index, second operand, error report, axis args).
    private delegate void Kernel<T>(Index1D e, ArrayView<T> first, ArrayView<int> index, ArrayView<T> second, ArrayView<int> error, AxisArgs p)
        where T : unmanaged;

    private readonly Lazy<MemoryBuffer1D<int, Stride1D.Dense>> _report = new(() => backend.Accelerator.Allocate1D<int>(2));

    public void IndexSelect(Tensor x, int axis, Tensor index, Tensor y) =>
        Gather("IndexSelect", y.Shape, x, axis, index, y,
            IndexingKernels.IndexSelect<float>, IndexingKernels.IndexSelect<double>, IndexingKernels.IndexSelect<int>);

    public void IndexAdd(Tensor source, int axis, Tensor index, Tensor y) =>
        Scatter("IndexAdd", source.Shape, source, axis, index, y, IndexingKernels.IndexAdd<float, F32>, IndexingKernels.IndexAdd<double, F64>);

    public void Gather(Tensor x, int axis, Tensor index, Tensor y) =>
        Gather("Gather", index.Shape, x, axis, index, y,
            IndexingKernels.Gather<float>, IndexingKernels.Gather<double>, IndexingKernels.Gather<int>);

    public void ScatterAdd(Tensor source, int axis, Tensor index, Tensor y) =>
        Scatter("ScatterAdd", index.Shape, source, axis, index, y, IndexingKernels.ScatterAdd<float, F32>, IndexingKernels.ScatterAdd<double, F64>);

    // Gathers walk y: `walked` is (outer, m, inner) of y (IndexSelect) or index's shape (Gather); any dtype.
    private void Gather(string op, Shape walked, Tensor x, int axis, Tensor index, Tensor y,
        Kernel<float> f32, Kernel<double> f64, Kernel<int> i32)
    {
        var p = Args(walked, axis, x.Shape[axis]);
        switch (x.DType)
        {
            case DType.Float32: Launch(op, f32, x, index, y, y.Numel, p, axis); break;
            case DType.Float64: RequireF64(op); Launch(op, f64, x, index, y, y.Numel, p, axis); break;
            default: Launch(op, i32, x, index, y, y.Numel, p, axis); break;
        }
    }

    // Scatters walk the source: `walked` is the source's shape (IndexAdd) or index's shape (ScatterAdd); float only.
    private void Scatter(string op, Shape walked, Tensor source, int axis, Tensor index, Tensor y, Kernel<float> f32, Kernel<double> f64)
    {
        backend.RequireFloat(op, source.DType);
        var p = Args(walked, axis, y.Shape[axis]);
        if (source.DType == DType.Float32) Launch(op, f32, source, index, y, source.Numel, p, axis);
        else Launch(op, f64, source, index, y, source.Numel, p, axis);
    }

    private static AxisArgs Args(Shape walked, int axis, int otherN)
    {
        var (_, m, inner) = IlgpuTensor.AroundAxis(walked, axis);
        return new AxisArgs { M = m, Inner = inner, OtherN = otherN };
    }

    private void RequireF64(string op)
    {
        if (!backend.SupportsFloat64) throw new BackendNotSupportedException(op, backend.Name, "the device has no float64");
    }

    // One thread per element of the walked tensor (`threads` of them); (first, index, second) as the kernel takes them.
    private void Launch<T>(string op, Kernel<T> kernel, Tensor first, Tensor index, Tensor second, long threads, AxisArgs p, int axis)
        where T : unmanaged
    {
        if (threads == 0) return;
        var launch = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, AxisArgs>>(kernel);
        var report = ClearReport();
        launch(backend.Stream, (int)threads, IlgpuTensor.Dense<T>(first, backend, op), IlgpuTensor.Dense<int>(index, backend, op),
            IlgpuTensor.Dense<T>(second, backend, op), report, p);
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
