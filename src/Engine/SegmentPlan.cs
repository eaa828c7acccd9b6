namespace Hep.Engine;

/// <summary>
/// The sorted (CSR) form of a segment index, built once by <see cref="TensorOps.BuildSegmentPlan"/> and
/// reused by every planned scatter-add / segment mean over the same index (HeteroNet's edge lists are
/// fixed for a batch, so its six layers share one plan per edge type instead of sorting six times).
/// Index (E) Int32 in [0, Segments) (validated when the plan is built); Offsets (Segments + 1) with
/// Offsets[v + 1] − Offsets[v] the size of segment v; Order (E) the element ids of each segment in
/// increasing order (a stable counting sort), so a planned reduction sums every segment in element
/// order: bitwise the same as the unplanned deterministic variant. The plan owns its tensors.
/// </summary>
public sealed class SegmentPlan : IDisposable
{
    internal SegmentPlan(Tensor index, int segments, Tensor offsets, Tensor order)
    {
        Index = index;
        Segments = segments;
        Offsets = offsets;
        Order = order;
    }

    /// <summary>The index the plan was built from (E), Int32, contiguous.</summary>
    public Tensor Index { get; }

    /// <summary>Number of segments (nodes) V.</summary>
    public int Segments { get; }

    /// <summary>Segment boundaries (V + 1), Int32.</summary>
    public Tensor Offsets { get; }

    /// <summary>Element ids grouped by segment, increasing within a segment (E), Int32.</summary>
    public Tensor Order { get; }

    /// <summary>Number of elements (edges) E.</summary>
    public int Elements => Index.Shape[0];

    /// <summary>The backend holding the plan's tensors.</summary>
    public IBackend Backend => Index.Backend;

    public void Dispose()
    {
        Index.Dispose();
        Offsets.Dispose();
        Order.Dispose();
    }
}
