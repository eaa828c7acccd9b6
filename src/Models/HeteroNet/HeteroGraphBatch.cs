namespace Hep.Models.HeteroNet;

/// <summary>One node type of one event: node features (V × F, row-major), edge features (E × Fe) and local edge endpoints.</summary>
public sealed record GraphPart(int NodeCount, float[] NodeFeatures, float[] EdgeFeatures, int[] Source, int[] Destination)
{
    public int EdgeCount => Source.Length;
}

/// <summary>One detector event: calorimeter clusters and tracker hits (no cross-type edges), with its class label.</summary>
public sealed record HeteroEvent(GraphPart Clusters, GraphPart Trackers, int Label = 0);

/// <summary>
/// Several events batched per node type: node and edge rows concatenated event after event, edge
/// endpoints offset into the batched node list, and a graph id per node for the per-event readout
/// (spec §4.8's batched form; one event reproduces the single-graph model exactly). The edge lists are
/// fixed for the batch, so their index tensors and the sorted <see cref="SegmentPlan"/>s of the message
/// aggregation (per node type) and of the per-event readout are built here once and shared by all layers.
/// </summary>
public sealed class HeteroGraphBatch : IDisposable
{
    private HeteroGraphBatch(int graphs, BatchedPart clusters, BatchedPart trackers, int[] labels, SegmentPlan readout)
    {
        Graphs = graphs;
        Clusters = clusters;
        Trackers = trackers;
        Labels = labels;
        ReadoutPlan = readout;
    }

    /// <summary>Plan of the per-event readout: the graph id of every node, clusters then trackers (V = Graphs).</summary>
    public SegmentPlan ReadoutPlan { get; }

    public int Graphs { get; }
    public BatchedPart Clusters { get; }
    public BatchedPart Trackers { get; }
    public int[] Labels { get; }

    /// <summary>All events of one node type, ready for the model.</summary>
    public sealed class BatchedPart(Tensor nodes, Tensor edges, int[] source, int[] destination, int[] graph, bool aggregateBySource) : IDisposable
    {
        public Tensor Nodes { get; } = nodes;
        public Tensor Edges { get; } = edges;
        public int[] Source { get; } = source;
        public int[] Destination { get; } = destination;
        public int[] Graph { get; } = graph;
        public int NodeCount => Nodes.Shape[0];
        public int EdgeCount => Edges.Shape[0];

        /// <summary>Source endpoints (E) as an Int32 tensor on the batch's backend.</summary>
        public Tensor SourceIndex { get; } = IntTensor(nodes.Backend, source);

        /// <summary>Destination endpoints (E) as an Int32 tensor on the batch's backend.</summary>
        public Tensor DestinationIndex { get; } = IntTensor(nodes.Backend, destination);

        /// <summary>Sorted plan of the aggregation index (the source endpoints, or the destinations), V = NodeCount.</summary>
        public SegmentPlan AggregationPlan { get; } = PlanOf(nodes.Backend, aggregateBySource ? source : destination, nodes.Shape[0]);

        public void Dispose()
        {
            Nodes.Dispose();
            Edges.Dispose();
            SourceIndex.Dispose();
            DestinationIndex.Dispose();
            AggregationPlan.Dispose();
        }
    }

    public static HeteroGraphBatch Create(IBackend backend, IReadOnlyList<HeteroEvent> events, HeteroNetConfig config, DType dtype = DType.Float32)
    {
        if (events.Count == 0) throw new ArgumentException("HeteroGraphBatch: no events");
        var clusters = Build(backend, events.Select(e => e.Clusters).ToArray(), config.ClusterNodeDim, config.ClusterEdgeDim, "cluster", config.AggregateBySource, dtype);
        var trackers = Build(backend, events.Select(e => e.Trackers).ToArray(), config.TrackerNodeDim, config.TrackerEdgeDim, "tracker", config.AggregateBySource, dtype);
        var readout = PlanOf(backend, clusters.Graph.Concat(trackers.Graph).ToArray(), events.Count);
        return new HeteroGraphBatch(events.Count, clusters, trackers, events.Select(e => e.Label).ToArray(), readout);
    }

    private static Tensor IntTensor(IBackend backend, int[] values) =>
        Tensor.FromArray<int>(backend, values, new Shape(values.Length)).DetachFromScope();

    // The sorted plan of an index given on the host (the plan keeps its own copy of the index).
    private static SegmentPlan PlanOf(IBackend backend, int[] values, int segments)
    {
        using var index = Tensor.FromArray<int>(backend, values, new Shape(values.Length));
        return TensorOps.BuildSegmentPlan(index, segments);
    }

    /// <summary>Labels as an Int32 tensor (G).</summary>
    public Tensor LabelTensor(IBackend backend) => Tensor.FromArray<int>(backend, Labels, new Shape(Labels.Length));

    private static BatchedPart Build(IBackend backend, GraphPart[] parts, int nodeDim, int edgeDim, string kind, bool aggregateBySource, DType dtype)
    {
        int nodes = 0, edges = 0;
        for (int g = 0; g < parts.Length; g++)
        {
            var p = parts[g];
            if (p.NodeFeatures.Length != p.NodeCount * nodeDim)
                throw new ArgumentException($"event {g}: {kind} node features hold {p.NodeFeatures.Length} values, expected {p.NodeCount} × {nodeDim}");
            if (p.EdgeFeatures.Length != p.EdgeCount * edgeDim || p.Destination.Length != p.EdgeCount)
                throw new ArgumentException($"event {g}: {kind} edges: {p.EdgeCount} sources, {p.Destination.Length} destinations, {p.EdgeFeatures.Length} feature values (× {edgeDim})");
            foreach (int v in p.Source.Concat(p.Destination))
            {
                if ((uint)v >= (uint)p.NodeCount) throw new ArgumentException($"event {g}: {kind} edge endpoint {v} outside [0, {p.NodeCount})");
            }
            nodes += p.NodeCount;
            edges += p.EdgeCount;
        }
        var nodeData = new float[(long)nodes * nodeDim];
        var edgeData = new float[(long)edges * edgeDim];
        var src = new int[edges];
        var dst = new int[edges];
        var graph = new int[nodes];
        int nodeAt = 0, edgeAt = 0;
        for (int g = 0; g < parts.Length; g++)
        {
            var p = parts[g];
            p.NodeFeatures.CopyTo(nodeData, (long)nodeAt * nodeDim);
            p.EdgeFeatures.CopyTo(edgeData, (long)edgeAt * edgeDim);
            for (int e = 0; e < p.EdgeCount; e++)
            {
                src[edgeAt + e] = p.Source[e] + nodeAt;
                dst[edgeAt + e] = p.Destination[e] + nodeAt;
            }
            Array.Fill(graph, g, nodeAt, p.NodeCount);
            nodeAt += p.NodeCount;
            edgeAt += p.EdgeCount;
        }
        return new BatchedPart(Upload(backend, nodeData, nodes, nodeDim, dtype), Upload(backend, edgeData, edges, edgeDim, dtype), src, dst, graph, aggregateBySource);
    }

    private static Tensor Upload(IBackend backend, float[] data, int rows, int cols, DType dtype)
    {
        var shape = new Shape(rows, cols);
        var t = dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, Array.ConvertAll(data, v => (double)v), shape)
            : Tensor.FromArray<float>(backend, data, shape);
        return t.DetachFromScope();
    }

    public void Dispose()
    {
        Clusters.Dispose();
        Trackers.Dispose();
        ReadoutPlan.Dispose();
    }
}
