namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>
    /// k-nearest neighbours per jet: points (B, C, N) float, mask (B, N) of the same dtype (1 = real
    /// particle, 0 = padded; null = all real) → Int32 (B, N, k) indices of the k nearest points by
    /// squared Euclidean distance, self excluded by index, sorted by distance, ties to the lower index.
    /// Padded points behave as in weaver's ParticleNet (coordinates shifted by 1e9): a real point's
    /// padded neighbours come after all its real ones, and a padded point gets valid indices
    /// (the other padded points first). Requires 1 ≤ k ≤ N − 1. The (B, N, N) distances are never stored.
    /// </summary>
    public static Tensor Knn(Tensor points, Tensor? mask, int k)
    {
        const string op = "Knn";
        var backend = SameBackend(op, points, mask);
        SameDType(op, points, mask);
        RequireFloating(op, points);
        if (points.Rank != 3) throw new ArgumentException($"{op}: points must be (B, C, N), got {points.Shape}");
        int b = points.Shape[0], n = points.Shape[2];
        if (mask is not null && (mask.Rank != 2 || mask.Shape[0] != b || mask.Shape[1] != n))
            throw new ArgumentException($"{op}: mask must be (B, N) = ({b}, {n}), got {mask.Shape}");
        if (k < 1 || k > n - 1) throw new ArgumentException($"{op}: k = {k} needs 1 ≤ k ≤ N − 1 = {n - 1}");
        using var dp = Contiguous(points);
        using var dm = mask is null ? null : Contiguous(mask);
        var indices = Tensor.Zeros(backend, new Shape(b, n, k), DType.Int32);
        backend.Graph.Knn(dp, dm, indices);
        return indices;
    }

    /// <summary>Neighbour features x_j: x (B, C, N), index (B, N, K) → (B, C, N, K).</summary>
    public static Tensor GatherNeighbors(Tensor x, Tensor index)
    {
        var (backend, b, c, n, k) = CheckNeighbors("GatherNeighbors", x, index);
        using var dx = Contiguous(x);
        using var di = Contiguous(index);
        var y = Tensor.Zeros(backend, new Shape(b, c, n, k), x.DType);
        backend.Graph.GatherNeighbors(dx, di, y);
        return y;
    }

    /// <summary>Adjoint of <see cref="GatherNeighbors"/>: gradY (B, C, N, K) scatter-added into (B, C, N).</summary>
    public static Tensor GatherNeighborsBackward(Tensor gradY, Tensor index)
    {
        var (backend, b, c, n, _) = CheckEdgeGradient("GatherNeighborsBackward", gradY, index, 1);
        using var dg = Contiguous(gradY);
        using var di = Contiguous(index);
        var gradX = Tensor.Zeros(backend, new Shape(b, c, n), gradY.DType);
        backend.Graph.GatherNeighborsBackward(dg, di, gradX);
        return gradX;
    }

    /// <summary>EdgeConv edge features [x_i, x_j − x_i]: x (B, C, N), index (B, N, K) → (B, 2C, N, K) (weaver's get_graph_feature).</summary>
    public static Tensor EdgeFeatures(Tensor x, Tensor index)
    {
        var (backend, b, c, n, k) = CheckNeighbors("EdgeFeatures", x, index);
        using var dx = Contiguous(x);
        using var di = Contiguous(index);
        var y = Tensor.Zeros(backend, new Shape(b, 2 * c, n, k), x.DType);
        backend.Graph.EdgeFeatures(dx, di, y);
        return y;
    }

    /// <summary>Adjoint of <see cref="EdgeFeatures"/>: gradY (B, 2C, N, K) → gradX (B, C, N).</summary>
    public static Tensor EdgeFeaturesBackward(Tensor gradY, Tensor index)
    {
        var (backend, b, c2, n, _) = CheckEdgeGradient("EdgeFeaturesBackward", gradY, index, 2);
        using var dg = Contiguous(gradY);
        using var di = Contiguous(index);
        var gradX = Tensor.Zeros(backend, new Shape(b, c2 / 2, n), gradY.DType);
        backend.Graph.EdgeFeaturesBackward(dg, di, gradX);
        return gradX;
    }

    /// <summary>
    /// y (B, O, N, K) = self[b, o, n] + neighbor[b, o, index[b, n, k]] for self and neighbor (B, O, N):
    /// the gather half of the fused EdgeConv projection (W_a − W_b)·x_i + W_b·x_j.
    /// </summary>
    public static Tensor NeighborCombine(Tensor self, Tensor neighbor, Tensor index)
    {
        var (backend, b, o, n, k) = CheckNeighbors("NeighborCombine", self, index);
        SameBackend("NeighborCombine", self, neighbor);
        SameDType("NeighborCombine", self, neighbor);
        if (neighbor.Shape != self.Shape) throw new ArgumentException($"NeighborCombine: self {self.Shape} and neighbor {neighbor.Shape} differ");
        using var ds = Contiguous(self);
        using var dn = Contiguous(neighbor);
        using var di = Contiguous(index);
        var y = Tensor.Zeros(backend, new Shape(b, o, n, k), self.DType);
        backend.Graph.NeighborCombine(ds, dn, di, y);
        return y;
    }

    /// <summary>Adjoint of <see cref="NeighborCombine"/>: (Σ_k gradY, scatter-add of gradY at index), both (B, O, N).</summary>
    public static (Tensor GradSelf, Tensor GradNeighbor) NeighborCombineBackward(Tensor gradY, Tensor index)
    {
        var (backend, b, o, n, _) = CheckEdgeGradient("NeighborCombineBackward", gradY, index, 1);
        using var dg = Contiguous(gradY);
        using var di = Contiguous(index);
        var gradSelf = Tensor.Zeros(backend, new Shape(b, o, n), gradY.DType);
        var gradNeighbor = Tensor.Zeros(backend, new Shape(b, o, n), gradY.DType);
        backend.Graph.NeighborCombineBackward(dg, di, gradSelf, gradNeighbor);
        return (gradSelf, gradNeighbor);
    }

    /// <summary>
    /// Row scatter-add for message passing: source (E, F…) with Int32 index (E) in [0, numNodes) →
    /// (numNodes, F…), out[v] = Σ_{e: index[e] = v} source[e]; nodes without edges get 0.
    /// deterministic = true: sorted (CSR) segment reduction, bitwise reproducible; false: the backend's
    /// fast unordered variant (float sums may differ in the last bits between runs or core counts).
    /// </summary>
    public static Tensor ScatterAdd(Tensor source, Tensor index, int numNodes, bool deterministic = true)
    {
        var (backend, source2, f) = CheckSegments("ScatterAdd", source, index, numNodes);
        using (source2)
        using (var di = Contiguous(index))
        {
            var y = Tensor.Empty(backend, source.Shape.With(0, numNodes), source.DType);
            using var y2 = y.View(numNodes, f);
            backend.Graph.ScatterAdd(source2, di, y2, deterministic);
            return y;
        }
    }

    /// <summary>Segment mean (per-graph readout): like <see cref="ScatterAdd(Tensor, Tensor, int, bool)"/> divided by segment sizes; empty segments give 0.</summary>
    public static Tensor SegmentMean(Tensor source, Tensor index, int numSegments, bool deterministic = true)
    {
        var y = SegmentMean(source, index, numSegments, deterministic, out var counts);
        counts.Dispose();
        return y;
    }

    /// <summary>Segment mean that also returns the segment sizes (numSegments) in the source dtype, for the backward.</summary>
    public static Tensor SegmentMean(Tensor source, Tensor index, int numSegments, bool deterministic, out Tensor counts)
    {
        var (backend, source2, f) = CheckSegments("SegmentMean", source, index, numSegments);
        using (source2)
        using (var di = Contiguous(index))
        {
            var y = Tensor.Empty(backend, source.Shape.With(0, numSegments), source.DType);
            counts = Tensor.Empty(backend, new Shape(numSegments), source.DType);
            using var y2 = y.View(numSegments, f);
            backend.Graph.SegmentMean(source2, di, y2, counts, deterministic);
            return y;
        }
    }

    /// <summary>
    /// Backward of ScatterAdd (counts null) or SegmentMean (counts from the forward): gradY (V, F…) →
    /// gradSource (E, F…) with gradSource[e] = gradY[index[e]] (/ counts[index[e]]).
    /// </summary>
    public static Tensor SegmentGather(Tensor gradY, Tensor index, Tensor? counts)
    {
        const string op = "SegmentGather";
        var backend = SameBackend(op, gradY, index, counts);
        SameDType(op, gradY, counts);
        RequireFloating(op, gradY);
        RequireIndex(op, index);
        if (index.Rank != 1) throw new ArgumentException($"{op}: index must be 1-D (E), got {index.Shape}");
        if (gradY.Rank < 1) throw new ArgumentException($"{op}: gradY must have a node axis");
        int v = gradY.Shape[0], e = index.Shape[0];
        if (counts is not null && (counts.Rank != 1 || counts.Shape[0] != v))
            throw new ArgumentException($"{op}: counts must be ({v}), got {counts.Shape}");
        int f = (int)RowWidth(gradY.Shape);
        using var dg = Contiguous(gradY);
        using var g2 = dg.View(v, f);
        using var di = Contiguous(index);
        using var dc = counts is null ? null : Contiguous(counts);
        var gradSource = Tensor.Empty(backend, gradY.Shape.With(0, e), gradY.DType);
        using var s2 = gradSource.View(e, f);
        backend.Graph.SegmentGather(g2, di, dc, s2);
        return gradSource;
    }

    /// <summary>
    /// Builds the reusable sorted (CSR) plan of an Int32 segment index (E) with values in [0, numSegments)
    /// for the planned <see cref="ScatterAdd(Tensor, SegmentPlan)"/> / <see cref="SegmentMean(Tensor, SegmentPlan, out Tensor)"/>;
    /// an index outside the range throws naming BuildSegmentPlan. The caller disposes the plan.
    /// </summary>
    public static SegmentPlan BuildSegmentPlan(Tensor index, int numSegments)
    {
        const string op = "BuildSegmentPlan";
        var backend = SameBackend(op, index);
        RequireIndex(op, index);
        if (index.Rank != 1) throw new ArgumentException($"{op}: index must be 1-D (E), got {index.Shape}");
        if (numSegments < 0) throw new ArgumentException($"{op}: negative number of segments {numSegments}");
        var di = Contiguous(index, forceCopy: true).DetachFromScope();
        var offsets = Tensor.Empty(backend, new Shape(numSegments + 1), DType.Int32).DetachFromScope();
        var order = Tensor.Empty(backend, new Shape(index.Shape[0]), DType.Int32).DetachFromScope();
        try
        {
            backend.Graph.BuildSegmentPlan(di, offsets, order);
        }
        catch
        {
            di.Dispose();
            offsets.Dispose();
            order.Dispose();
            throw;
        }
        return new SegmentPlan(di, numSegments, offsets, order);
    }

    /// <summary>
    /// Scatter-add over a prebuilt plan: source (E, F…) → (V, F…), deterministic and bitwise equal to
    /// <see cref="ScatterAdd(Tensor, Tensor, int, bool)"/> with deterministic = true, without the per-call sort.
    /// </summary>
    public static Tensor ScatterAdd(Tensor source, SegmentPlan plan) => PlannedReduce("ScatterAdd", source, plan, mean: false, out _);

    /// <summary>Segment mean over a prebuilt plan (deterministic); see <see cref="SegmentMean(Tensor, SegmentPlan, out Tensor)"/>.</summary>
    public static Tensor SegmentMean(Tensor source, SegmentPlan plan)
    {
        var y = PlannedReduce("SegmentMean", source, plan, mean: true, out var counts);
        counts!.Dispose();
        return y;
    }

    /// <summary>Segment mean over a prebuilt plan that also returns the segment sizes (V) in the source dtype, for the backward.</summary>
    public static Tensor SegmentMean(Tensor source, SegmentPlan plan, out Tensor counts)
    {
        var y = PlannedReduce("SegmentMean", source, plan, mean: true, out var c);
        counts = c!;
        return y;
    }

    private static Tensor PlannedReduce(string op, Tensor source, SegmentPlan plan, bool mean, out Tensor? counts)
    {
        var backend = SameBackend(op, source, plan.Index);
        RequireFloating(op, source);
        if (source.Rank < 1 || source.Shape[0] != plan.Elements)
            throw new ArgumentException($"{op}: source must be (E, F…) with E = {plan.Elements} (the plan's index), got {source.Shape}");
        int v = plan.Segments, f = (int)RowWidth(source.Shape);
        using var ds = Contiguous(source);
        using var s2 = ds.View(plan.Elements, f);
        var y = Tensor.Empty(backend, source.Shape.With(0, v), source.DType);
        counts = mean ? Tensor.Empty(backend, new Shape(v), source.DType) : null;
        using var y2 = y.View(v, f);
        backend.Graph.PlannedSegmentReduce(s2, plan.Offsets, plan.Order, y2, counts);
        return y;
    }

    private static (IBackend Backend, Tensor Source2, int F) CheckSegments(string op, Tensor source, Tensor index, int segments)
    {
        var backend = SameBackend(op, source, index);
        RequireFloating(op, source);
        RequireIndex(op, index);
        if (source.Rank < 1) throw new ArgumentException($"{op}: source must be (E, F…), got a scalar");
        if (index.Rank != 1 || index.Shape[0] != source.Shape[0])
            throw new ArgumentException($"{op}: index must be (E) = ({source.Shape[0]}), got {index.Shape}");
        if (segments < 0) throw new ArgumentException($"{op}: negative number of segments {segments}");
        int f = (int)RowWidth(source.Shape);
        using var ds = Contiguous(source);
        return (backend, ds.View(source.Shape[0], f), f);
    }

    // Elements per row of a (rows, …) shape: the product of the trailing dims.
    private static long RowWidth(Shape shape)
    {
        long f = 1;
        for (int i = 1; i < shape.Rank; i++) f *= shape[i];
        return f;
    }

    private static (IBackend, int B, int C, int N, int K) CheckNeighbors(string op, Tensor x, Tensor index)
    {
        var backend = SameBackend(op, x, index);
        RequireFloating(op, x);
        RequireIndex(op, index);
        if (x.Rank != 3) throw new ArgumentException($"{op}: x must be (B, C, N), got {x.Shape}");
        if (index.Rank != 3 || index.Shape[0] != x.Shape[0] || index.Shape[1] != x.Shape[2])
            throw new ArgumentException($"{op}: index must be (B, N, K) = ({x.Shape[0]}, {x.Shape[2]}, K), got {index.Shape}");
        return (backend, x.Shape[0], x.Shape[1], x.Shape[2], index.Shape[2]);
    }

    private static (IBackend, int B, int C, int N, int K) CheckEdgeGradient(string op, Tensor gradY, Tensor index, int channelFactor)
    {
        var backend = SameBackend(op, gradY, index);
        RequireFloating(op, gradY);
        RequireIndex(op, index);
        if (gradY.Rank != 4 || index.Rank != 3 || gradY.Shape[0] != index.Shape[0] || gradY.Shape[2] != index.Shape[1]
            || gradY.Shape[3] != index.Shape[2] || gradY.Shape[1] % channelFactor != 0)
            throw new ArgumentException($"{op}: gradY (B, C, N, K) {gradY.Shape} does not match index (B, N, K) {index.Shape}");
        return (backend, gradY.Shape[0], gradY.Shape[1], gradY.Shape[2], gradY.Shape[3]);
    }
}
