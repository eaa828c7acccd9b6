namespace Hep.Models.HeteroNet;

/// <summary>
/// HeteroNet hyper-parameters (spec heteronet.md §4.1, §8): the tutorial's sizes by default (embed 32;
/// cluster node/edge 6/9, tracker node/edge 5/5; 5 classes; 6 layers). DecoderDropout is the decoder's
/// drop probability: 0.1 as intended, 0.9 reproduces the MindSpore port's literal p = 1 − dropout.
/// KeepUnusedPhiX keeps the never-called φ_x parameters for parameter-count parity (248,305 vs 234,481).
/// AggregateBySource: messages summed at the edge's source node as in the port (false: at the destination).
/// </summary>
public sealed record HeteroNetConfig
{
    public int EmbedSize { get; init; } = 32;
    public int ClusterNodeDim { get; init; } = 6;
    public int ClusterEdgeDim { get; init; } = 9;
    public int TrackerNodeDim { get; init; } = 5;
    public int TrackerEdgeDim { get; init; } = 5;
    public int NumClasses { get; init; } = 5;
    public int NumLayers { get; init; } = 6;
    public double DecoderDropout { get; init; } = 0.1;
    public bool KeepUnusedPhiX { get; init; } = true;
    public bool AggregateBySource { get; init; } = true;
}
