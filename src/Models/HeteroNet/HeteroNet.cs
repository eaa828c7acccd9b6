using Hep.Models.Nn;

namespace Hep.Models.HeteroNet;

/// <summary>
/// HeteroNet (arXiv:2401.05094, MindSpore tutorial port; spec heteronet.md §4), batched: four input
/// embeddings, per layer one detector information block per node type followed by the shared-weight
/// exchange MLPs g_h / g_e applied row-wise to the merged node and edge states, then a per-event mean
/// over all nodes of both types and the decoder Linear → ReLU → Dropout → Linear. Names follow the
/// port: embed.*_embed, LLPB_clu.i.*, LLPB_trk.i.*, combine_h.{0,2}, combine_e.{0,2}, graph_dec.{0,3}.
/// Message sums and the readout use the batch's prebuilt sorted plans (deterministic, one sort per batch).
/// </summary>
public sealed class HeteroNet : Module
{
    private readonly Linear _cluNode, _cluEdge, _trkNode, _trkEdge;
    private readonly List<DetectorInformationBlock> _clusterBlocks = [], _trackerBlocks = [];
    private readonly Linear _combineH0, _combineH1, _combineE0, _combineE1;
    private readonly Linear _dec0, _dec1;
    private readonly Dropout _decDropout;

    public HeteroNet(IBackend backend, HeteroNetConfig config, ulong seed = 1, DType dtype = DType.Float32)
    {
        Config = config;
        int d = config.EmbedSize;
        ulong s = seed * 10_000;
        _cluNode = RegisterModule("embed.clu_node_embed", new Linear(backend, config.ClusterNodeDim, d, seed: s + 1, dtype: dtype));
        _cluEdge = RegisterModule("embed.clu_edge_embed", new Linear(backend, config.ClusterEdgeDim, d, seed: s + 2, dtype: dtype));
        _trkNode = RegisterModule("embed.trk_node_embed", new Linear(backend, config.TrackerNodeDim, d, seed: s + 3, dtype: dtype));
        _trkEdge = RegisterModule("embed.trk_edge_embed", new Linear(backend, config.TrackerEdgeDim, d, seed: s + 4, dtype: dtype));
        for (int i = 0; i < config.NumLayers; i++)
        {
            _clusterBlocks.Add(RegisterModule($"LLPB_clu.{i}", new DetectorInformationBlock(backend, d, config.KeepUnusedPhiX, config.AggregateBySource, s + 100 + (ulong)i * 10, dtype)));
            _trackerBlocks.Add(RegisterModule($"LLPB_trk.{i}", new DetectorInformationBlock(backend, d, config.KeepUnusedPhiX, config.AggregateBySource, s + 200 + (ulong)i * 10, dtype)));
        }
        _combineH0 = RegisterModule("combine_h.0", DetectorInformationBlock.ZeroBias(new Linear(backend, d, d, seed: s + 301, dtype: dtype)));
        _combineH1 = RegisterModule("combine_h.2", DetectorInformationBlock.ZeroBias(new Linear(backend, d, d, seed: s + 302, dtype: dtype)));
        _combineE0 = RegisterModule("combine_e.0", DetectorInformationBlock.ZeroBias(new Linear(backend, d, d, seed: s + 303, dtype: dtype)));
        _combineE1 = RegisterModule("combine_e.2", DetectorInformationBlock.ZeroBias(new Linear(backend, d, d, seed: s + 304, dtype: dtype)));
        _dec0 = RegisterModule("graph_dec.0", new Linear(backend, d, d, seed: s + 401, dtype: dtype));
        _decDropout = RegisterModule("graph_dec.2", new Dropout(config.DecoderDropout, s + 402));
        _dec1 = RegisterModule("graph_dec.3", new Linear(backend, d, config.NumClasses, seed: s + 403, dtype: dtype));
    }

    public HeteroNetConfig Config { get; }

    /// <summary>A batch of events → logits (G, classes).</summary>
    public Variable Forward(HeteroGraphBatch batch)
    {
        var c = batch.Clusters;
        var t = batch.Trackers;
        var hc = _cluNode.Forward(Variable.Constant(c.Nodes));
        var ec = _cluEdge.Forward(Variable.Constant(c.Edges));
        var ht = _trkNode.Forward(Variable.Constant(t.Nodes));
        var et = _trkEdge.Forward(Variable.Constant(t.Edges));
        Variable merged = hc;
        for (int i = 0; i < Config.NumLayers; i++)
        {
            (hc, ec) = _clusterBlocks[i].Forward(hc, ec, c.SourceIndex, c.DestinationIndex, c.AggregationPlan);
            (ht, et) = _trackerBlocks[i].Forward(ht, et, t.SourceIndex, t.DestinationIndex, t.AggregationPlan);
            merged = Exchange(_combineH0, _combineH1, hc, ht);
            hc = Fn.Slice(merged, 0, 0, c.NodeCount);
            ht = Fn.Slice(merged, 0, c.NodeCount, t.NodeCount);
            var edges = Exchange(_combineE0, _combineE1, ec, et);
            ec = Fn.Slice(edges, 0, 0, c.EdgeCount);
            et = Fn.Slice(edges, 0, c.EdgeCount, t.EdgeCount);
        }
        var pooled = Fn.SegmentMean(merged, batch.ReadoutPlan);
        return _dec1.Forward(_decDropout.Forward(Fn.Relu(_dec0.Forward(pooled))));
    }

    // Shared row-wise MLP Linear → ReLU → Linear → ReLU on the row-concatenation of both node types.
    private static Variable Exchange(Linear first, Linear second, Variable a, Variable b) =>
        Fn.Relu(second.Forward(Fn.Relu(first.Forward(Fn.Concat([a, b], 0)))));
}
