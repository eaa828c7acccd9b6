using Hep.Models.HeteroNet;
using Hep.RootIO;
using Hep.RootIO.Writing;

namespace Hep.Cli.Data.EventGraphs;

/// <summary>
/// Writes an <see cref="EventGraphSet"/> as an event-graph ROOT file (layout in <see cref="EventGraphFormat"/>):
/// node features column by column as <c>vector&lt;float&gt;</c>, edge endpoints as <c>vector&lt;int&gt;</c>,
/// one-hot <c>bool</c> labels and <c>float</c> observables. Entries go out in chunks; the file appears
/// under its name only when complete (the ROOT writer renames a temporary file).
/// </summary>
public static class EventGraphWriter
{
    private const int ChunkEvents = 2000;

    public static void Write(string path, EventGraphSet set)
    {
        var schema = set.Schema;
        var specs = new List<BranchSpec>();
        void Vectors(string prefix, string[] names) => specs.AddRange(names.Select(n => BranchSpec.Vector(prefix + n, RootValueType.Float32)));
        Vectors(EventGraphFormat.ClusterNodePrefix, schema.ClusterNode);
        specs.Add(BranchSpec.Vector(EventGraphFormat.ClusterEdgePrefix + EventGraphFormat.SourceSuffix, RootValueType.Int32));
        specs.Add(BranchSpec.Vector(EventGraphFormat.ClusterEdgePrefix + EventGraphFormat.DestinationSuffix, RootValueType.Int32));
        Vectors(EventGraphFormat.ClusterEdgePrefix, schema.ClusterEdge);
        Vectors(EventGraphFormat.TrackerNodePrefix, schema.TrackerNode);
        specs.Add(BranchSpec.Vector(EventGraphFormat.TrackerEdgePrefix + EventGraphFormat.SourceSuffix, RootValueType.Int32));
        specs.Add(BranchSpec.Vector(EventGraphFormat.TrackerEdgePrefix + EventGraphFormat.DestinationSuffix, RootValueType.Int32));
        Vectors(EventGraphFormat.TrackerEdgePrefix, schema.TrackerEdge);
        specs.AddRange(set.LabelNames.Select(l => BranchSpec.Scalar(l, RootValueType.Bool)));
        specs.AddRange(set.Observables.Keys.Select(o => BranchSpec.Scalar(o, RootValueType.Float32)));

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        using var writer = new RootTreeWriter(path, EventGraphFormat.TreeName, specs);
        for (int start = 0; start < set.Count; start += ChunkEvents)
        {
            int n = Math.Min(ChunkEvents, set.Count - start);
            var chunk = set.Events.AsSpan(start, n).ToArray();
            var columns = new Dictionary<string, WriteColumn>();
            AddPart(columns, chunk.Select(e => e.Clusters).ToArray(), EventGraphFormat.ClusterNodePrefix, EventGraphFormat.ClusterEdgePrefix,
                schema.ClusterNode, schema.ClusterEdge);
            AddPart(columns, chunk.Select(e => e.Trackers).ToArray(), EventGraphFormat.TrackerNodePrefix, EventGraphFormat.TrackerEdgePrefix,
                schema.TrackerNode, schema.TrackerEdge);
            for (int c = 0; c < set.LabelNames.Length; c++)
                columns[set.LabelNames[c]] = WriteColumn.Scalars(chunk.Select(e => e.Label == c).ToArray());
            foreach (var (name, values) in set.Observables) columns[name] = WriteColumn.Scalars(values.AsSpan(start, n).ToArray());
            writer.Append(n, columns);
        }
        writer.Complete();
    }

    // Every column carries its own per-event offsets (from its own array lengths), so the file holds
    // exactly what the set holds and the reader's validation sees any inconsistency.
    private static void AddPart(Dictionary<string, WriteColumn> columns, GraphPart[] parts, string nodePrefix, string edgePrefix,
        string[] nodeNames, string[] edgeNames)
    {
        for (int f = 0; f < nodeNames.Length; f++)
            columns[nodePrefix + nodeNames[f]] = Column(parts, p => p.NodeFeatures, f, nodeNames.Length);
        for (int f = 0; f < edgeNames.Length; f++)
            columns[edgePrefix + edgeNames[f]] = Column(parts, p => p.EdgeFeatures, f, edgeNames.Length);
        columns[edgePrefix + EventGraphFormat.SourceSuffix] = WriteColumn.Jagged(parts.SelectMany(p => p.Source).ToArray(), Offsets(parts.Select(p => p.Source.Length)));
        columns[edgePrefix + EventGraphFormat.DestinationSuffix] =
            WriteColumn.Jagged(parts.SelectMany(p => p.Destination).ToArray(), Offsets(parts.Select(p => p.Destination.Length)));
    }

    // Feature f of every row of every part (rows × width, row-major) → one jagged column.
    private static WriteColumn Column(GraphPart[] parts, Func<GraphPart, float[]> data, int f, int width)
    {
        var offsets = Offsets(parts.Select(p => data(p).Length / width));
        var values = new float[offsets[^1]];
        int at = 0;
        foreach (var p in parts)
        {
            var d = data(p);
            for (int r = 0, n = d.Length / width; r < n; r++) values[at++] = d[r * width + f];
        }
        return WriteColumn.Jagged(values, offsets);
    }

    private static int[] Offsets(IEnumerable<int> counts)
    {
        var list = new List<int> { 0 };
        foreach (int c in counts) list.Add(list[^1] + c);
        return [.. list];
    }
}
