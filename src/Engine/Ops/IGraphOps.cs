namespace Hep.Engine.Ops;

/// <summary>
/// Graph kernels of the particle models: kNN, EdgeConv neighbour gathers and their scatter-add
/// adjoints, and row scatter/segment reductions for message passing. All tensors contiguous; indices
/// Int32. Layout is channel-first like weaver's ParticleNet: node features (B, C, N), neighbour
/// indices (B, N, K) into the same jet, edge tensors (B, C', N, K). Destinations are preallocated and
/// zero-filled by <see cref="TensorOps"/>; every kernel overwrites its destination.
/// </summary>
public interface IGraphOps
{
    /// <summary>
    /// indices[b, i, :] = the K nearest points j ≠ i of jet b by squared Euclidean distance over the C
    /// coordinates of points (B, C, N), sorted by distance, ties to the lower index. mask (B, N), when
    /// given, marks real points (≠ 0); padded points act as if every coordinate were 1e9 (weaver's
    /// coord_shift), so they follow all real points and precede each other by index.
    /// </summary>
    void Knn(Tensor points, Tensor? mask, Tensor indices);

    /// <summary>y (B, C, N, K) = x[b, c, index[b, n, k]] for x (B, C, N).</summary>
    void GatherNeighbors(Tensor x, Tensor index, Tensor y);

    /// <summary>Adjoint of GatherNeighbors: gradX[b, c, index[b, n, k]] += gradY[b, c, n, k] (deterministic).</summary>
    void GatherNeighborsBackward(Tensor gradY, Tensor index, Tensor gradX);

    /// <summary>y (B, 2C, N, K) = [x_i, x_j − x_i]: y[b, c, n, k] = x[b, c, n], y[b, C + c, n, k] = x[b, c, j] − x[b, c, n], j = index[b, n, k].</summary>
    void EdgeFeatures(Tensor x, Tensor index, Tensor y);

    /// <summary>Adjoint of EdgeFeatures: gradX[n] = Σ_k (g₁ − g₂)[n, k] + Σ_{(n', k): index = n} g₂[n', k] (deterministic).</summary>
    void EdgeFeaturesBackward(Tensor gradY, Tensor index, Tensor gradX);

    /// <summary>
    /// The gather half of the fused EdgeConv projection: y (B, O, N, K) = self[b, o, n] + neighbor[b, o, index[b, n, k]]
    /// for self and neighbor (B, O, N) (per-node projections (W_a − W_b)·x and W_b·x).
    /// </summary>
    void NeighborCombine(Tensor self, Tensor neighbor, Tensor index, Tensor y);

    /// <summary>Adjoint of NeighborCombine: gradSelf = Σ_k gradY; gradNeighbor = scatter-add of gradY at index (deterministic).</summary>
    void NeighborCombineBackward(Tensor gradY, Tensor index, Tensor gradSelf, Tensor gradNeighbor);

    /// <summary>
    /// y (V, F) = Σ_{e : index[e] = v} source[e, :] for source (E, F), index (E). deterministic = true: sorted
    /// (CSR) segment reduction, each row summed in edge order; false: the backend's fast unordered variant.
    /// </summary>
    void ScatterAdd(Tensor source, Tensor index, Tensor y, bool deterministic);

    /// <summary>As ScatterAdd but divided by each segment's size (empty segments give 0); counts (V) receives the sizes.</summary>
    void SegmentMean(Tensor source, Tensor index, Tensor y, Tensor counts, bool deterministic);

    /// <summary>
    /// Backward of ScatterAdd (counts null) and SegmentMean (counts given): gradSource[e, :] =
    /// gradY[index[e], :] (/ counts[index[e]]). A gather, deterministic.
    /// </summary>
    void SegmentGather(Tensor gradY, Tensor index, Tensor? counts, Tensor gradSource);

    /// <summary>
    /// The stable CSR form of index (E) with values in [0, V): offsets (V + 1), offsets[v + 1] − offsets[v]
    /// = number of elements with index v; order (E) = those element ids, increasing within each segment.
    /// An index outside [0, V) throws <see cref="ArgumentOutOfRangeException"/> naming BuildSegmentPlan.
    /// </summary>
    void BuildSegmentPlan(Tensor index, Tensor offsets, Tensor order);

    /// <summary>
    /// Deterministic segment reduction over a plan: y (V, F) row v = Σ_{q ∈ [offsets[v], offsets[v + 1])}
    /// source[order[q], :], summed in q order (bitwise equal to ScatterAdd with deterministic = true);
    /// counts given → divided by the segment size (empty segments 0) and counts (V) receives the sizes.
    /// </summary>
    void PlannedSegmentReduce(Tensor source, Tensor offsets, Tensor order, Tensor y, Tensor? counts);
}

/// <summary>The default <see cref="IBackend.Graph"/> of a backend without graph kernels: every op throws naming itself.</summary>
internal sealed class UnsupportedGraphOps(string backend) : IGraphOps
{
    private NotSupportedException Fail(string op) => new BackendNotSupportedException(op, backend, "not implemented on this backend");

    public void Knn(Tensor points, Tensor? mask, Tensor indices) => throw Fail(nameof(Knn));
    public void GatherNeighbors(Tensor x, Tensor index, Tensor y) => throw Fail(nameof(GatherNeighbors));
    public void GatherNeighborsBackward(Tensor gradY, Tensor index, Tensor gradX) => throw Fail(nameof(GatherNeighborsBackward));
    public void EdgeFeatures(Tensor x, Tensor index, Tensor y) => throw Fail(nameof(EdgeFeatures));
    public void EdgeFeaturesBackward(Tensor gradY, Tensor index, Tensor gradX) => throw Fail(nameof(EdgeFeaturesBackward));
    public void NeighborCombine(Tensor self, Tensor neighbor, Tensor index, Tensor y) => throw Fail(nameof(NeighborCombine));
    public void NeighborCombineBackward(Tensor gradY, Tensor index, Tensor gradSelf, Tensor gradNeighbor) => throw Fail(nameof(NeighborCombineBackward));
    public void ScatterAdd(Tensor source, Tensor index, Tensor y, bool deterministic) => throw Fail(nameof(ScatterAdd));
    public void SegmentMean(Tensor source, Tensor index, Tensor y, Tensor counts, bool deterministic) => throw Fail(nameof(SegmentMean));
    public void SegmentGather(Tensor gradY, Tensor index, Tensor? counts, Tensor gradSource) => throw Fail(nameof(SegmentGather));
    public void BuildSegmentPlan(Tensor index, Tensor offsets, Tensor order) => throw Fail(nameof(BuildSegmentPlan));
    public void PlannedSegmentReduce(Tensor source, Tensor offsets, Tensor order, Tensor y, Tensor? counts) => throw Fail(nameof(PlannedSegmentReduce));
}
