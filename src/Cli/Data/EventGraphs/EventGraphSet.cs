using Hep.Models.HeteroNet;

namespace Hep.Cli.Data.EventGraphs;

/// <summary>
/// The feature names of one event-graph file, per part, in branch order (without the branch prefix):
/// cluster node, cluster-pair edge, tracker node, tracker-pair edge features. They fix the model's input
/// dimensions and are recorded in HeteroNet checkpoints so inference can check the file matches.
/// </summary>
public sealed record EventGraphSchema(string[] ClusterNode, string[] ClusterEdge, string[] TrackerNode, string[] TrackerEdge)
{
    /// <summary>The HeteroNet input dimensions of this schema on top of <paramref name="baseConfig"/>.</summary>
    public HeteroNetConfig Apply(HeteroNetConfig baseConfig, int classes) => baseConfig with
    {
        ClusterNodeDim = ClusterNode.Length,
        ClusterEdgeDim = ClusterEdge.Length,
        TrackerNodeDim = TrackerNode.Length,
        TrackerEdgeDim = TrackerEdge.Length,
        NumClasses = classes,
    };

    /// <summary>Branch names of the schema in the order the writer creates them (node then edge features, per type).</summary>
    public IEnumerable<(string Branch, string Part)> FeatureBranches()
    {
        foreach (var n in ClusterNode) yield return (EventGraphFormat.ClusterNodePrefix + n, "cluster node");
        foreach (var n in ClusterEdge) yield return (EventGraphFormat.ClusterEdgePrefix + n, "cluster edge");
        foreach (var n in TrackerNode) yield return (EventGraphFormat.TrackerNodePrefix + n, "tracker node");
        foreach (var n in TrackerEdge) yield return (EventGraphFormat.TrackerEdgePrefix + n, "tracker edge");
    }

    public bool SameAs(EventGraphSchema other) =>
        ClusterNode.SequenceEqual(other.ClusterNode) && ClusterEdge.SequenceEqual(other.ClusterEdge) &&
        TrackerNode.SequenceEqual(other.TrackerNode) && TrackerEdge.SequenceEqual(other.TrackerEdge);

    public override string ToString() =>
        $"cluster [{string.Join(", ", ClusterNode)}] / pairs [{string.Join(", ", ClusterEdge)}]; " +
        $"tracker [{string.Join(", ", TrackerNode)}] / pairs [{string.Join(", ", TrackerEdge)}]";
}

/// <summary>
/// Events read from (or to be written to) event-graph files: one <see cref="HeteroEvent"/> per entry with
/// its class index into <see cref="LabelNames"/> (the one-hot <c>label_*</c> branch names), the feature
/// schema, and per-event observables (scalar branches, as float).
/// </summary>
public sealed record EventGraphSet(HeteroEvent[] Events, string[] LabelNames, EventGraphSchema Schema, IReadOnlyDictionary<string, float[]> Observables)
{
    public int Count => Events.Length;
}
