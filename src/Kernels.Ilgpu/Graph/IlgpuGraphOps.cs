using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Launchers for <see cref="KnnKernels"/>, <see cref="EdgeGatherKernels"/>, <see cref="SegmentReduceKernels"/>
/// and the CSR builder <see cref="CsrKernels"/>. Index bounds are reported like the indexing ops
/// (one-int read-back while <see cref="IlgpuBackend.ValidateIndices"/> is on).
/// </summary>
internal sealed class IlgpuGraphOps(IlgpuBackend backend) : IGraphOps
{
    private readonly DeviceScratch _scratch = new(backend);

    // kNN groups: at most 128 query threads (N is usually ≤ 128 particles).
    private int KnnGroup => Math.Min(backend.RowGroupSize, 128);

    public void Knn(Tensor points, Tensor? mask, Tensor indices)
    {
        backend.RequireFloat("Knn", points.DType);
        if (points.DType == DType.Float32) KnnTyped<float, F32>(points, mask, indices);
        else KnnTyped<double, F64>(points, mask, indices);
    }

    public void GatherNeighbors(Tensor x, Tensor index, Tensor y) =>
        Typed("GatherNeighbors", x.DType, () => Forward<float, F32>("GatherNeighbors", x, null, index, y), () => Forward<double, F64>("GatherNeighbors", x, null, index, y));

    public void EdgeFeatures(Tensor x, Tensor index, Tensor y) =>
        Typed("EdgeFeatures", x.DType, () => Forward<float, F32>("EdgeFeatures", x, null, index, y), () => Forward<double, F64>("EdgeFeatures", x, null, index, y));

    public void NeighborCombine(Tensor self, Tensor neighbor, Tensor index, Tensor y) =>
        Typed("NeighborCombine", self.DType, () => Forward<float, F32>("NeighborCombine", self, neighbor, index, y),
            () => Forward<double, F64>("NeighborCombine", self, neighbor, index, y));

    public void GatherNeighborsBackward(Tensor gradY, Tensor index, Tensor gradX) =>
        Typed("GatherNeighborsBackward", gradY.DType, () => Backward<float, F32>("GatherNeighborsBackward", gradY, index, gradX, null),
            () => Backward<double, F64>("GatherNeighborsBackward", gradY, index, gradX, null));

    public void EdgeFeaturesBackward(Tensor gradY, Tensor index, Tensor gradX) =>
        Typed("EdgeFeaturesBackward", gradY.DType, () => Backward<float, F32>("EdgeFeaturesBackward", gradY, index, gradX, null),
            () => Backward<double, F64>("EdgeFeaturesBackward", gradY, index, gradX, null));

    public void NeighborCombineBackward(Tensor gradY, Tensor index, Tensor gradSelf, Tensor gradNeighbor) =>
        Typed("NeighborCombineBackward", gradY.DType, () => Backward<float, F32>("NeighborCombineBackward", gradY, index, gradSelf, gradNeighbor),
            () => Backward<double, F64>("NeighborCombineBackward", gradY, index, gradSelf, gradNeighbor));

    public void ScatterAdd(Tensor source, Tensor index, Tensor y, bool deterministic) =>
        Typed("ScatterAdd", source.DType, () => Reduce<float, F32>("ScatterAdd", source, index, y, null, deterministic),
            () => Reduce<double, F64>("ScatterAdd", source, index, y, null, deterministic));

    public void SegmentMean(Tensor source, Tensor index, Tensor y, Tensor counts, bool deterministic) =>
        Typed("SegmentMean", source.DType, () => Reduce<float, F32>("SegmentMean", source, index, y, counts, deterministic),
            () => Reduce<double, F64>("SegmentMean", source, index, y, counts, deterministic));

    public void SegmentGather(Tensor gradY, Tensor index, Tensor? counts, Tensor gradSource) =>
        Typed("SegmentGather", gradY.DType, () => GatherTyped<float, F32>(gradY, index, counts, gradSource),
            () => GatherTyped<double, F64>(gradY, index, counts, gradSource));

    public void BuildSegmentPlan(Tensor index, Tensor offsets, Tensor order)
    {
        const string op = "BuildSegmentPlan";
        int e = index.Shape[0], v = offsets.Shape[0] - 1;
        var csr = new CsrArgs { E = e, SegmentLength = Math.Max(e, 1), SegmentNodes = 0, Limit = v, V = v };
        var orderView = e == 0 ? _scratch.Ints("order", 1) : View<int>(order, op);
        BuildCsr(op, index, csr, (View<int>(offsets, op), orderView));
    }

    public void PlannedSegmentReduce(Tensor source, Tensor offsets, Tensor order, Tensor y, Tensor? counts)
    {
        string op = counts is null ? "ScatterAdd" : "SegmentMean";
        Typed(op, source.DType, () => Planned<float, F32>(op, source, offsets, order, y, counts),
            () => Planned<double, F64>(op, source, offsets, order, y, counts));
    }

    private void Typed(string op, DType dtype, Action f32, Action f64)
    {
        backend.RequireFloat(op, dtype);
        if (dtype == DType.Float32) f32();
        else f64();
    }

    private ArrayView<T> View<T>(Tensor t, string op) where T : unmanaged => IlgpuTensor.Dense<T>(t, backend, op);

    private void KnnTyped<T, TS>(Tensor points, Tensor? mask, Tensor indices)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "Knn";
        int b = points.Shape[0], c = points.Shape[1], n = points.Shape[2], k = indices.Shape[2];
        if (b * n == 0 || k == 0) return;
        if (k > KnnKernels.MaxK) throw new BackendNotSupportedException(op, backend.Name, $"k = {k} > {KnnKernels.MaxK} (per-thread top-k lists)");
        int group = KnnGroup, tiles = LaunchMath.CeilDiv(n, group);
        var p = new KnnArgs { B = b, C = c, N = n, K = k, Tiles = tiles, HasMask = mask is null ? 0 : 1 };
        var pv = View<T>(points, op);
        var mv = View<T>(mask ?? points, op);
        var iv = View<int>(indices, op);
        var select = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<int>, KnnArgs>>(
            KnnKernels.Select<T, TS>);
        select(backend.Stream, new KernelConfig(b * tiles, group), pv, mv, iv, p);
        if (mask is null) return;
        var padded = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<int>, KnnArgs>>(
            KnnKernels.PaddedQueries<T, TS>);
        padded(backend.Stream, b * n, pv, mv, iv, p);
    }

    private static EdgeArgs Edges(Tensor nodes, Tensor index) =>
        new() { B = nodes.Shape[0], C = nodes.Shape[1], N = nodes.Shape[2], K = index.Shape[2] };

    private void Forward<T, TS>(string op, Tensor x, Tensor? neighbor, Tensor index, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var p = Edges(x, index);
        long elements = (long)p.B * p.C * p.N * p.K;
        if (elements == 0) return;
        var report = _scratch.ClearedReport();
        if (op == "NeighborCombine")
        {
            var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, EdgeArgs>>(
                EdgeGatherKernels.NeighborCombine<T, TS>);
            kernel(backend.Stream, (int)elements, View<T>(x, op), View<T>(neighbor!, op), View<int>(index, op), View<T>(y, op), report, p);
        }
        else
        {
            Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, EdgeArgs> body = op == "EdgeFeatures"
                ? EdgeGatherKernels.EdgeFeatures<T, TS>
                : EdgeGatherKernels.GatherNeighbors<T, TS>;
            var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, EdgeArgs>>(body);
            kernel(backend.Stream, (int)elements, View<T>(x, op), View<int>(index, op), View<T>(y, op), report, p);
        }
        _scratch.CheckReport(op, p.N);
    }

    private void Backward<T, TS>(string op, Tensor gradY, Tensor index, Tensor gradX, Tensor? gradNeighbor)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var p = Edges(gradX, index);
        long nodes = (long)p.B * p.C * p.N;
        if (nodes == 0) return;
        int e = p.B * p.N * p.K;
        var (offsets, order) = BuildCsr(op, index, new CsrArgs { E = e, SegmentLength = Math.Max(p.N * p.K, 1), SegmentNodes = p.N, Limit = p.N, V = p.B * p.N });
        var g = View<T>(gradY, op);
        if (op == "NeighborCombineBackward")
        {
            var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<int>, ArrayView<T>, ArrayView<T>, EdgeArgs>>(
                EdgeGatherKernels.NeighborCombineBackward<T, TS>);
            kernel(backend.Stream, (int)nodes, g, offsets, order, View<T>(gradX, op), View<T>(gradNeighbor!, op), p);
            return;
        }
        Action<Index1D, ArrayView<T>, ArrayView<int>, ArrayView<int>, ArrayView<T>, EdgeArgs> body = op == "EdgeFeaturesBackward"
            ? EdgeGatherKernels.EdgeFeaturesBackward<T, TS>
            : EdgeGatherKernels.GatherNeighborsBackward<T, TS>;
        var launch = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<int>, ArrayView<T>, EdgeArgs>>(body);
        launch(backend.Stream, (int)nodes, g, offsets, order, View<T>(gradX, op), p);
    }

    /// <summary>
    /// Counts (kept in the "counts" slot), offsets (V + 1) and per-segment sorted element ids of the index
    /// (into the scratch slots, or into <paramref name="target"/> for a <see cref="SegmentPlan"/>); throws on a bad index.
    /// </summary>
    private (ArrayView<int> Offsets, ArrayView<int> Order) BuildCsr(string op, Tensor index, CsrArgs p,
        (ArrayView<int> Offsets, ArrayView<int> Order)? target = null)
    {
        var counts = _scratch.Ints("counts", p.V);
        var offsets = target?.Offsets ?? _scratch.Ints("offsets", p.V + 1L);
        var cursor = _scratch.Ints("cursor", p.V);
        var order = target?.Order ?? _scratch.Ints("order", p.E);
        counts.MemSetToZero(backend.Stream);
        var report = _scratch.ClearedReport();
        var idx = p.E == 0 ? order : View<int>(index, op);
        if (p.E > 0)
        {
            var count = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, CsrArgs>>(CsrKernels.Count);
            count(backend.Stream, p.E, idx, counts, report, p);
            _scratch.CheckReport(op, p.Limit);
        }
        var scan = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<int>, ArrayView<int>, ArrayView<int>, int>>(CsrKernels.ExclusiveScan);
        scan(backend.Stream, new KernelConfig(1, backend.RowGroupSize), counts, offsets, cursor, p.V);
        if (p.E > 0)
        {
            var fill = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, CsrArgs>>(CsrKernels.Fill);
            fill(backend.Stream, p.E, idx, cursor, order, report, p);
            if (p.V > 0)
            {
                var sort = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<int>>>(CsrKernels.SortSegments);
                sort(backend.Stream, p.V, offsets, order);
            }
        }
        return (offsets, order);
    }

    private void Reduce<T, TS>(string op, Tensor source, Tensor index, Tensor y, Tensor? counts, bool deterministic)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int e = source.Shape[0], f = source.Shape[1], v = y.Shape[0];
        var p = new SegmentArgs { E = e, F = f, V = v, Mean = counts is null ? 0 : 1 };
        var yv = View<T>(y, op);
        ArrayView<int> segmentSizes;
        if (deterministic || counts is not null)
        {
            // Segment sizes (and, for the sorted variant, the CSR order) from the index.
            var csr = new CsrArgs { E = e, SegmentLength = Math.Max(e, 1), SegmentNodes = 0, Limit = v, V = v };
            if (deterministic)
            {
                var (offsets, order) = BuildCsr(op, index, csr);
                if ((long)v * f > 0)
                {
                    var sum = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<int>, ArrayView<T>, SegmentArgs>>(
                        SegmentReduceKernels.SumSegments<T, TS>);
                    sum(backend.Stream, v * f, e * f == 0 ? yv : View<T>(source, op), offsets, order, yv, p);
                }
                segmentSizes = _scratch.Ints("counts", v);
            }
            else
            {
                segmentSizes = _scratch.Ints("counts", v);
                segmentSizes.MemSetToZero(backend.Stream);
                if (e > 0)
                {
                    var report = _scratch.ClearedReport();
                    var count = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, CsrArgs>>(CsrKernels.Count);
                    count(backend.Stream, e, View<int>(index, op), segmentSizes, report, csr);
                    _scratch.CheckReport(op, v);
                }
                Unordered<T, TS>(op, source, index, yv, p);
                if ((long)v * f > 0)
                {
                    var divide = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, SegmentArgs>>(
                        SegmentReduceKernels.DivideByCounts<T, TS>);
                    divide(backend.Stream, v * f, yv, segmentSizes, p);
                }
            }
            if (counts is not null && v > 0)
            {
                var write = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<T>>>(SegmentReduceKernels.WriteCounts<T, TS>);
                write(backend.Stream, v, segmentSizes, View<T>(counts, op));
            }
            return;
        }
        Unordered<T, TS>(op, source, index, yv, p);
    }

    // Sorted sums over a prebuilt plan: the same SumSegments kernel as the unplanned sorted variant.
    private void Planned<T, TS>(string op, Tensor source, Tensor offsets, Tensor order, Tensor y, Tensor? counts)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int e = source.Shape[0], f = source.Shape[1], v = y.Shape[0];
        if (v == 0) return;
        var p = new SegmentArgs { E = e, F = f, V = v, Mean = counts is null ? 0 : 1 };
        var off = View<int>(offsets, op);
        if ((long)v * f > 0)
        {
            var yv = View<T>(y, op);
            var sum = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<int>, ArrayView<T>, SegmentArgs>>(
                SegmentReduceKernels.SumSegments<T, TS>);
            sum(backend.Stream, v * f, (long)e * f == 0 ? yv : View<T>(source, op), off, e == 0 ? off : View<int>(order, op), yv, p);
        }
        if (counts is not null)
        {
            var sizes = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<T>>>(SegmentReduceKernels.CountsFromOffsets<T, TS>);
            sizes(backend.Stream, v, off, View<T>(counts, op));
        }
    }

    private void Unordered<T, TS>(string op, Tensor source, Tensor index, ArrayView<T> y, SegmentArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        if ((long)p.V * p.F > 0) y.MemSetToZero(backend.Stream);
        if ((long)p.E * p.F == 0) return;
        var report = _scratch.ClearedReport();
        var scatter = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<int>, SegmentArgs>>(
            SegmentReduceKernels.AtomicScatter<T, TS>);
        scatter(backend.Stream, p.E * p.F, View<T>(source, op), View<int>(index, op), y, report, p);
        _scratch.CheckReport(op, p.V);
    }

    private void GatherTyped<T, TS>(Tensor gradY, Tensor index, Tensor? counts, Tensor gradSource)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const string op = "SegmentGather";
        int e = gradSource.Shape[0], f = gradSource.Shape[1], v = gradY.Shape[0];
        if ((long)e * f == 0) return;
        var p = new SegmentArgs { E = e, F = f, V = v, Mean = counts is null ? 0 : 1 };
        var report = _scratch.ClearedReport();
        var gather = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<T>, ArrayView<int>, SegmentArgs>>(
            SegmentReduceKernels.Gather<T, TS>);
        var gy = View<T>(gradY, op);
        gather(backend.Stream, e * f, gy, View<int>(index, op), counts is null ? gy : View<T>(counts, op), View<T>(gradSource, op), report, p);
        _scratch.CheckReport(op, v);
    }
}
