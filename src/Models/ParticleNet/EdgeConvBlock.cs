using Hep.Models.Nn;

namespace Hep.Models.ParticleNet;

/// <summary>
/// One EdgeConv block (spec §1.3): kNN graph on the given coordinates, edge features
/// [x_i, x_j − x_i], layers of [1×1 conv (no bias) → BatchNorm → ReLU], mean over the k neighbours,
/// plus a shortcut (1×1 conv + BatchNorm when the channel count changes, else identity), then ReLU.
/// Parameter names follow weaver: convs.{i}.weight (O, C, 1, 1), bns.{i}.*, sc.weight, sc_bn.*.
/// </summary>
public sealed class EdgeConvBlock : Module
{
    private readonly List<Conv1x1> _convs = [];
    private readonly List<BatchNorm> _bns = [];
    private readonly Conv1x1? _shortcut;
    private readonly BatchNorm? _shortcutNorm;

    public EdgeConvBlock(IBackend backend, int k, int inChannels, IReadOnlyList<int> channels, ulong seed, DType dtype = DType.Float32)
    {
        K = k;
        InChannels = inChannels;
        OutChannels = channels[^1];
        for (int i = 0; i < channels.Count; i++)
        {
            int input = i == 0 ? 2 * inChannels : channels[i - 1];
            _convs.Add(RegisterModule($"convs.{i}", new Conv1x1(backend, input, channels[i], spatialDims: 2, bias: false, seed: seed + (ulong)i, dtype: dtype)));
        }
        for (int i = 0; i < channels.Count; i++) _bns.Add(RegisterModule($"bns.{i}", new BatchNorm(backend, channels[i], dtype: dtype)));
        if (inChannels != OutChannels)
        {
            _shortcut = RegisterModule("sc", new Conv1x1(backend, inChannels, OutChannels, spatialDims: 1, bias: false, seed: seed + 100, dtype: dtype));
            _shortcutNorm = RegisterModule("sc_bn", new BatchNorm(backend, OutChannels, dtype: dtype));
        }
    }

    public int K { get; }

    /// <summary>Jets per core in one chunk of the CPU eval pipeline (see <see cref="AggregateEval"/>).</summary>
    /// (One per core measured best: 2 and 4 per core were 5–20 % slower on PN inference.)
    internal static int ChunkJetsPerCore { get; set; } = 1;
    public int InChannels { get; }
    public int OutChannels { get; }

    /// <summary>
    /// coordinates (B, D, N) for the kNN (padded slots zero; the 1e9 shift is applied from the mask),
    /// features (B, C, N), mask (B, 1, N) → (B, C_out, N). <paramref name="neighbours"/> (B, N, k), when
    /// given, replaces the kNN (reference comparisons with imported indices).
    /// In eval mode without a recording tape the [conv → BN → ReLU] chain runs as an inference pipeline
    /// (<see cref="AggregateEval"/>: BN + ReLU fused into the GEMM epilogue, jets in core-sized chunks so
    /// the chunk's activations stay in cache). With <paramref name="paddedOutputsMasked"/> the caller
    /// promises to multiply the result by the mask (ParticleNet does): the pipeline then computes each
    /// jet's columns only up to its last real particle, and the values at padded slots are unspecified
    /// (finite); real slots are unchanged. Those last real particles come from <paramref name="realEnds"/> when
    /// given (ParticleNet shares one per forward, so the mask is read back once, not once per block; ends past
    /// the mask's only cost columns, ends before it would leave real slots out), else from the mask.
    /// </summary>
    public Variable Forward(Tensor coordinates, Variable features, Tensor mask, Tensor? neighbours = null, bool paddedOutputsMasked = false,
        RealParticleEnds? realEnds = null)
    {
        Tensor index = neighbours ?? Neighbours(coordinates, mask);
        try
        {
            if (index.Rank != 3 || index.Shape[2] != K)
                throw new ArgumentException($"EdgeConv: neighbour indices {index.Shape} must be (B, N, {K})");
            Variable aggregated;
            if (!Training && Tape.Current is null)
            {
                aggregated = Variable.Constant(AggregateEval(features.Data, index, paddedOutputsMasked ? realEnds ?? new RealParticleEnds(mask) : null));
            }
            else
            {
                // [conv → BatchNorm → ReLU] per layer as fused BatchNorm+ReLU ops; the last one also takes the
                // mean over the k neighbours, so its (B, C, N, k) output is never materialised.
                var x = Fn.EdgeConvProject(features, _convs[0].Matrix(), index);
                for (int i = 0; i < _convs.Count; i++)
                {
                    if (i > 0) x = _convs[i].Forward(x);
                    x = _bns[i].ForwardRelu(x, meanLastAxis: i == _convs.Count - 1);
                }
                aggregated = x;
            }
            var shortcut = _shortcut is null ? features : _shortcutNorm!.Forward(_shortcut.Forward(features));
            return Fn.Relu(Fn.Add(shortcut, aggregated));
        }
        finally
        {
            if (neighbours is null) index.Dispose();
        }
    }

    /// <summary>
    /// Eval-mode mean over the k neighbours of the [conv → BN → ReLU] chain, no tape: (B, C, N) → (B, C_out, N).
    /// Layer 0 projects per node and combines per edge (as <see cref="Fn.EdgeConvProject"/>) followed by the
    /// BN + ReLU pass; layers 1 … L−2 are one GEMM each with BN + ReLU in its epilogue
    /// (<see cref="TensorOps.MatMulEpilogue"/>); the last layer's BN + ReLU also takes the mean over k.
    /// On the CPU backend jets go through the chain in chunks of one jet per core, so a chunk's (C, N·k)
    /// activations stay in cache between the layers instead of streaming the whole batch through memory
    /// once per layer; other backends take the whole batch as one chunk. With <paramref name="realEnds"/>
    /// (used on the CPU only, so other backends never read the mask back) a chunk's columns stop at its
    /// jets' last real particle (or the last neighbour a real particle uses, when a jet has at most k real
    /// particles); padded rows there are given neighbour 0, and the output beyond a jet's extent is left zero. Real slots get the same values as the training-form ops
    /// (the epilogue's fused multiply-add aside: float rounding).
    /// </summary>
    private Tensor AggregateEval(Tensor x, Tensor index, RealParticleEnds? realEnds)
    {
        var backend = x.Backend;
        int b = x.Shape[0], c = x.Shape[1], n = x.Shape[2], k = K;
        var affine = _bns.Select(bn => bn.EvalAffine()).ToArray();
        try
        {
            // Layer 0 per node, for the whole batch (K times cheaper than per edge).
            using var w0 = _convs[0].Weight.Data.View(_convs[0].OutChannels, 2 * c);
            using var wa = w0.Slice(1, 0, c);
            using var wbView = w0.Slice(1, c, c);
            using var wb = TensorOps.Contiguous(wbView, forceCopy: true);
            using var wSelf = TensorOps.Sub(wa, wb);
            using var self = TensorOps.MatMul(wSelf, x);
            using var neighbor = TensorOps.MatMul(wb, x);
            using var indexC = TensorOps.Contiguous(index);

            bool cpu = backend.Device.Kind == DeviceKind.Cpu;
            int chunk = cpu ? Math.Max(1, ChunkJetsPerCore * Environment.ProcessorCount) : b;
            bool skipPadded = cpu && realEnds is not null;
            int[]? hostIndex = skipPadded ? indexC.ToArray<int>() : null;
            int[] realEnd = new int[b], extent = new int[b];
            if (skipPadded)
            {
                var ends = realEnds!.Values;
                if (ends.Length != b) throw new ArgumentException($"EdgeConv: {ends.Length} real-particle ends for a batch of {b}");
                for (int j = 0; j < b; j++)
                {
                    int last = ends[j];
                    if (last < 0 || last > n) throw new ArgumentException($"EdgeConv: real-particle end {last} of jet {j} outside [0, {n}]");
                    int e = last;
                    for (int q = j * n * k; q < (j * n + last) * k; q++) e = Math.Max(e, hostIndex![q] + 1);
                    realEnd[j] = last;
                    extent[j] = e;
                }
            }
            else
            {
                Array.Fill(realEnd, n);
                Array.Fill(extent, n);
            }

            // Jets in chunks: with skipping, ordered by extent (longest first) so a chunk's jets have similar
            // column counts; otherwise in batch order, a chunk being a slice of the batch.
            int[] order = Enumerable.Range(0, b).ToArray();
            if (skipPadded) order = [.. order.OrderByDescending(j => extent[j]).ThenBy(j => j)];
            var output = Tensor.Zeros(backend, new Shape(b, OutChannels, n), x.DType);
            for (int start = 0; start < b; start += chunk)
            {
                var jets = order.AsSpan(start, Math.Min(chunk, b - start)).ToArray();
                int cb = jets.Length, ne = 0;
                foreach (int j in jets) ne = Math.Max(ne, extent[j]);
                if (ne == 0) continue;
                using var idx = ChunkIndex(indexC, hostIndex, realEnd, jets, ne, n, k);
                using var selfC = ChunkColumns(self, jets, ne);
                using var nbC = ChunkColumns(neighbor, jets, ne);
                using var edges = TensorOps.NeighborCombine(selfC, nbC, idx);
                using var aggregated = ChunkLayers(edges, affine, cb, ne);
                for (int q = 0; q < cb; q++)
                {
                    using var src = aggregated.Slice(0, q, 1);
                    using var dstJet = output.Slice(0, jets[q], 1);
                    using var dst = dstJet.Slice(2, 0, ne);
                    TensorOps.CopyInto(src, dst);
                }
            }
            return output;
        }
        finally
        {
            foreach (var (scale, shift) in affine)
            {
                scale.Dispose();
                shift.Dispose();
            }
        }
    }

    // Layers of one chunk from the combined layer-0 edges (cb, O0, ne, k) to the mean over k (cb, O_last, ne).
    private Tensor ChunkLayers(Tensor edges, (Tensor Scale, Tensor Shift)[] affine, int cb, int ne)
    {
        var backend = edges.Backend;
        int k = K, layers = _convs.Count;
        using var edges3 = edges.View(cb, _convs[0].OutChannels, ne * k);
        Tensor current;
        if (layers == 1)
        {
            current = Tensor.Empty(backend, new Shape(cb, OutChannels, ne), edges.DType);
            backend.Norm.ChannelAffineRelu(edges3, affine[0].Scale, affine[0].Shift, k, current);
            return current;
        }
        current = Tensor.Empty(backend, edges3.Shape, edges.DType);
        backend.Norm.ChannelAffineRelu(edges3, affine[0].Scale, affine[0].Shift, 1, current);
        for (int i = 1; i < layers; i++)
        {
            using var input = current;
            using var w = _convs[i].Weight.Data.View(_convs[i].OutChannels, _convs[i].InChannels);
            if (i < layers - 1)
            {
                current = TensorOps.MatMulEpilogue(w, input, GemmEpilogue.RowAffine(affine[i].Scale, affine[i].Shift, GemmActivation.Relu));
                continue;
            }
            using var product = TensorOps.MatMul(w, input);
            current = Tensor.Empty(backend, new Shape(cb, OutChannels, ne), edges.DType);
            backend.Norm.ChannelAffineRelu(product, affine[i].Scale, affine[i].Shift, k, current);
        }
        return current;
    }

    // The listed jets of a rank-3 x, each cut to its first ne entries along axis (1 or 2): the chunk's per-node
    // values (cb, O, ne) from (B, O, N) with axis 2, its neighbour indices (cb, ne, k) from (B, N, k) with axis 1.
    private static Tensor ChunkColumns(Tensor x, int[] jets, int ne, int axis = 2)
    {
        var shape = new[] { jets.Length, x.Shape[1], x.Shape[2] };
        shape[axis] = ne;
        var y = Tensor.Empty(x.Backend, new Shape(shape), x.DType); // every jet row copied
        for (int q = 0; q < jets.Length; q++)
        {
            using var jet = x.Slice(0, jets[q], 1);
            using var cols = jet.Slice(axis, 0, ne);
            using var dst = y.Slice(0, q, 1);
            TensorOps.CopyInto(cols, dst);
        }
        return y;
    }

    // The chunk's neighbour indices (cb, ne, k): the listed jets' rows, or, built on the host when skipping,
    // with every padded row (p ≥ the jet's last real particle) pointing at node 0.
    private static Tensor ChunkIndex(Tensor index, int[]? hostIndex, int[] realEnd, int[] jets, int ne, int n, int k)
    {
        if (hostIndex is null) return ChunkColumns(index, jets, ne, axis: 1);
        var chunk = new int[jets.Length * ne * k];
        for (int q = 0; q < jets.Length; q++)
        {
            int rows = Math.Min(realEnd[jets[q]], ne);
            Array.Copy(hostIndex, jets[q] * n * k, chunk, q * ne * k, rows * k);
        }
        return Tensor.FromArray<int>(index.Backend, chunk, new Shape(jets.Length, ne, k));
    }

    /// <summary>
    /// The block's kNN graph (B, N, k) on coordinates (B, D, N) with mask (B, 1, N): the engine's kNN,
    /// self excluded, padded points behaving as weaver's 1e9-shifted ones (after every real point).
    /// </summary>
    public Tensor Neighbours(Tensor coordinates, Tensor mask)
    {
        using var flat = TensorOps.Reshape(mask, mask.Shape[0], mask.Shape[^1]);
        return TensorOps.Knn(coordinates, flat, K);
    }
}
