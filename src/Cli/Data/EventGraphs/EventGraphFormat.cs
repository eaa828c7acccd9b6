namespace Hep.Cli.Data.EventGraphs;

/// <summary>
/// Branch naming of the event-graph ROOT format (docs/event-graphs.md): TTree <c>tree</c>, one entry per
/// event; per node type the <c>vector&lt;float&gt;</c> feature branches <c>cluster_*</c> / <c>tracker_*</c>
/// (one value per node), per edge type the <c>vector&lt;int&gt;</c> endpoints <c>clu_inter_src/dst</c>,
/// <c>trk_inter_src/dst</c> (node indices local to the event and type) and the <c>vector&lt;float&gt;</c>
/// edge features <c>clu_inter_*</c> / <c>trk_inter_*</c> (one value per edge); one-hot <c>bool</c>
/// class branches <c>label_*</c>; any scalar branch is an observable. Feature order = branch order.
/// </summary>
public static class EventGraphFormat
{
    public const string TreeName = "tree";
    public const string ClusterNodePrefix = "cluster_";
    public const string TrackerNodePrefix = "tracker_";
    public const string ClusterEdgePrefix = "clu_inter_";
    public const string TrackerEdgePrefix = "trk_inter_";
    public const string LabelPrefix = "label_";
    public const string SourceSuffix = "src";
    public const string DestinationSuffix = "dst";

    /// <summary>True for the endpoint branches (<c>clu_inter_src</c>, …), which are not edge features.</summary>
    public static bool IsEndpoint(string branch, string edgePrefix) =>
        branch == edgePrefix + SourceSuffix || branch == edgePrefix + DestinationSuffix;
}
