using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>
/// Graph kernels on the CPU (float32/float64): <see cref="Knn{T}"/>, <see cref="EdgeGather{T}"/> and
/// <see cref="SegmentReduce{T}"/> hold the kernels; this class only dispatches on dtype.
/// </summary>
internal sealed class CpuGraphOps : IGraphOps
{
    public void Knn(Tensor points, Tensor? mask, Tensor indices) => Dispatch("Knn", points.DType,
        () => Knn<float>.Run(points, mask, indices), () => Knn<double>.Run(points, mask, indices));

    public void GatherNeighbors(Tensor x, Tensor index, Tensor y) => Dispatch("GatherNeighbors", x.DType,
        () => EdgeGather<float>.GatherNeighbors(x, index, y), () => EdgeGather<double>.GatherNeighbors(x, index, y));

    public void GatherNeighborsBackward(Tensor gradY, Tensor index, Tensor gradX) => Dispatch("GatherNeighborsBackward", gradY.DType,
        () => EdgeGather<float>.GatherNeighborsBackward(gradY, index, gradX), () => EdgeGather<double>.GatherNeighborsBackward(gradY, index, gradX));

    public void EdgeFeatures(Tensor x, Tensor index, Tensor y) => Dispatch("EdgeFeatures", x.DType,
        () => EdgeGather<float>.EdgeFeatures(x, index, y), () => EdgeGather<double>.EdgeFeatures(x, index, y));

    public void EdgeFeaturesBackward(Tensor gradY, Tensor index, Tensor gradX) => Dispatch("EdgeFeaturesBackward", gradY.DType,
        () => EdgeGather<float>.EdgeFeaturesBackward(gradY, index, gradX), () => EdgeGather<double>.EdgeFeaturesBackward(gradY, index, gradX));

    public void NeighborCombine(Tensor self, Tensor neighbor, Tensor index, Tensor y) => Dispatch("NeighborCombine", self.DType,
        () => EdgeGather<float>.NeighborCombine(self, neighbor, index, y), () => EdgeGather<double>.NeighborCombine(self, neighbor, index, y));

    public void NeighborCombineBackward(Tensor gradY, Tensor index, Tensor gradSelf, Tensor gradNeighbor) => Dispatch("NeighborCombineBackward", gradY.DType,
        () => EdgeGather<float>.NeighborCombineBackward(gradY, index, gradSelf, gradNeighbor),
        () => EdgeGather<double>.NeighborCombineBackward(gradY, index, gradSelf, gradNeighbor));

    public void ScatterAdd(Tensor source, Tensor index, Tensor y, bool deterministic) => Dispatch("ScatterAdd", source.DType,
        () => SegmentReduce<float>.Reduce(source, index, y, null, deterministic, "ScatterAdd"),
        () => SegmentReduce<double>.Reduce(source, index, y, null, deterministic, "ScatterAdd"));

    public void SegmentMean(Tensor source, Tensor index, Tensor y, Tensor counts, bool deterministic) => Dispatch("SegmentMean", source.DType,
        () => SegmentReduce<float>.Reduce(source, index, y, counts, deterministic, "SegmentMean"),
        () => SegmentReduce<double>.Reduce(source, index, y, counts, deterministic, "SegmentMean"));

    public void SegmentGather(Tensor gradY, Tensor index, Tensor? counts, Tensor gradSource) => Dispatch("SegmentGather", gradY.DType,
        () => SegmentReduce<float>.Gather(gradY, index, counts, gradSource), () => SegmentReduce<double>.Gather(gradY, index, counts, gradSource));

    public void BuildSegmentPlan(Tensor index, Tensor offsets, Tensor order) => SegmentPlanBuilder.Build(index, offsets, order);

    public void PlannedSegmentReduce(Tensor source, Tensor offsets, Tensor order, Tensor y, Tensor? counts) =>
        Dispatch(counts is null ? "ScatterAdd" : "SegmentMean", source.DType,
            () => SegmentReduce<float>.ReducePlanned(source, offsets, order, y, counts, counts is null ? "ScatterAdd" : "SegmentMean"),
            () => SegmentReduce<double>.ReducePlanned(source, offsets, order, y, counts, counts is null ? "ScatterAdd" : "SegmentMean"));

    private static void Dispatch(string op, DType dtype, Action f32, Action f64)
    {
        if (dtype == DType.Float32) f32();
        else if (dtype == DType.Float64) f64();
        else throw new BackendNotSupportedException(op, "cpu", $"dtype {dtype}");
    }
}
