using Hep.Models.Nn;

namespace Hep.Models.ParticleTransformer;

/// <summary>
/// ParT's pair embedding (spec §2.4): the lower-triangle pair features (B, 4, P) go through
/// BatchNorm1d(4), then [Conv1d 1×1 → BatchNorm1d → GELU] for each width and one final layer to
/// one channel per head (its GELU dropped when use_pre_activation_pair), and are scattered
/// symmetrically to the attention bias (B, H, N, N). Names follow weaver's Sequential: embed.0 (BN),
/// embed.1/2 (conv, BN), embed.4/5, … (GELUs hold the indices in between).
/// </summary>
public sealed class PairEmbed : Module
{
    private readonly BatchNorm _inputNorm;
    private readonly List<(Conv1x1 Conv, BatchNorm Norm, bool Gelu)> _layers = [];
    private readonly Lock _foldLock = new();
    private FoldCache? _fold;

    public PairEmbed(IBackend backend, int inputDim, IReadOnlyList<int> dims, int heads, bool preActivation, ulong seed, DType dtype = DType.Float32)
    {
        Heads = heads;
        _inputNorm = RegisterModule("embed.0", new BatchNorm(backend, inputDim, dtype: dtype));
        var widths = dims.Append(heads).ToArray();
        int input = inputDim;
        for (int i = 0; i < widths.Length; i++)
        {
            int at = 1 + 3 * i;
            var conv = RegisterModule($"embed.{at}", new Conv1x1(backend, input, widths[i], seed: seed + (ulong)i, dtype: dtype));
            var norm = RegisterModule($"embed.{at + 1}", new BatchNorm(backend, widths[i], dtype: dtype));
            bool gelu = !(preActivation && i == widths.Length - 1);
            _layers.Add((conv, norm, gelu));
            input = widths[i];
        }
    }

    public int Heads { get; }

    /// <summary>Per-pair outputs (B, H, P) from pair features (B, 4, P).</summary>
    public Variable Elements(Variable pairFeatures)
    {
        var x = _inputNorm.Forward(pairFeatures);
        foreach (var (conv, norm, gelu) in _layers)
        {
            x = norm.Forward(conv.Forward(x));
            if (gelu) x = Fn.Gelu(x);
        }
        return x;
    }

    /// <summary>
    /// Per-pair outputs (1, H, U) of U distinct pair rows (1, C, U) standing for
    /// <paramref name="multiplicity"/>[u] dense pairs each (see <see cref="DistinctPairs"/>). In training
    /// the batch norms use the statistics of the dense batch, Σᵤ wᵤ·x and Σᵤ wᵤ·(x − μ)² over Σᵤ wᵤ pairs,
    /// and their running statistics are updated with that count; in eval the running statistics make each
    /// row independent. Gradients reaching a distinct row are the sums over its copies, so parameter
    /// gradients equal the dense computation's.
    /// </summary>
    public Variable Elements(Variable distinctFeatures, Tensor multiplicity)
    {
        if (!Training) return Elements(distinctFeatures);
        int u = distinctFeatures.Shape[2];
        if (multiplicity.Shape != new Shape(u, 1)) throw new ArgumentException($"PairEmbed: multiplicity {multiplicity.Shape} must be ({u}, 1)");
        double total = TensorOps.SumAll(multiplicity).ToDoubleArray()[0];
        var x = WeightedNorm(_inputNorm, distinctFeatures, multiplicity, total);
        foreach (var (conv, norm, gelu) in _layers)
        {
            x = WeightedNorm(norm, conv.Forward(x), multiplicity, total);
            if (gelu) x = Fn.Gelu(x);
        }
        return x;
    }

    // Train-mode batch norm of (1, C, U) rows with weights w (U, 1) summing to `total` (PyTorch semantics:
    // biased variance normalises, unbiased updates the running estimate), composed from differentiable ops
    // so autograd yields the weighted backward (the μ and σ² paths included).
    private static Variable WeightedNorm(BatchNorm norm, Variable x, Tensor w, double total)
    {
        int c = x.Shape[1], u = x.Shape[2];
        if (total < 2) throw new ArgumentException($"PairEmbed: training batch norm needs more than one pair, got {total}");
        var rows = Fn.Reshape(x, c, u);
        var weights = Variable.Constant(w);
        var mean = Fn.Scale(Fn.MatMul(rows, weights), 1 / total);                    // (C, 1)
        var centred = Fn.Sub(rows, mean);                                             // (C, U)
        var variance = Fn.Scale(Fn.MatMul(Fn.Square(centred), weights), 1 / total);  // (C, 1)
        using (var m = TensorOps.Reshape(mean.Data, c))
        using (var v = TensorOps.Reshape(variance.Data, c))
        {
            TensorOps.UnaryInPlace(UnaryOp.MulScalar, norm.RunningMean, 1 - norm.Momentum);
            TensorOps.AddInPlace(norm.RunningMean, m, norm.Momentum);
            TensorOps.UnaryInPlace(UnaryOp.MulScalar, norm.RunningVar, 1 - norm.Momentum);
            TensorOps.AddInPlace(norm.RunningVar, v, norm.Momentum * total / (total - 1));
        }
        var scale = Fn.Unary(UnaryOp.Rsqrt, Fn.AddScalar(variance, norm.Eps));        // (C, 1)
        if (norm.Weight is not null) scale = Fn.Mul(scale, Fn.Reshape(norm.Weight, c, 1));
        var y = Fn.Mul(centred, scale);
        if (norm.Bias is not null) y = Fn.Add(y, Fn.Reshape(norm.Bias, c, 1));
        return Fn.Reshape(y, 1, c, u);
    }

    /// <summary>
    /// Training-mode attention bias (B, H, N, N) from the distinct pair rows (1, C, U) of a dense batch
    /// (<see cref="DistinctPairs"/>): embedded once each with the dense batch's statistics, then placed at
    /// every (i, j) and (j, i) they stand for.
    /// </summary>
    public Variable ForwardDistinct(Variable distinctFeatures, DistinctPairs pairs, int b, int n)
    {
        int u = pairs.Count;
        if (distinctFeatures.Shape != new Shape(1, distinctFeatures.Shape[1], u))
            throw new ArgumentException($"PairEmbed: distinct pair features {distinctFeatures.Shape} must be (1, C, {u})");
        using var weights = Tensor.FromArray<double>(distinctFeatures.Backend, pairs.Multiplicity, new Shape(u, 1));
        using var typed = TensorOps.Cast(weights, distinctFeatures.DType);
        var elements = Elements(distinctFeatures, typed);
        return SymmetricBias(elements, pairs.DenseToDistinct, b, n);
    }

    /// <summary>Pair features (B, 4, N(N+1)/2) → symmetric attention bias (B, H, N, N).</summary>
    public Variable Forward(Variable pairFeatures, int n)
    {
        if (pairFeatures.Shape[2] != PairFeatures.PairCount(n))
            throw new ArgumentException($"PairEmbed: {pairFeatures.Shape[2]} pairs do not belong to N = {n}");
        var elements = Elements(pairFeatures);
        using var map = Tensor.FromArray<int>(elements.Backend, PairFeatures.SymmetricIndex(n), new Shape(n * n));
        var full = Fn.IndexSelect(elements, 2, map);
        return Fn.Reshape(full, elements.Shape[0], Heads, n, n);
    }

    /// <summary>
    /// Attention bias (B, H, N, N) from the embeddings of the real pairs only (eval mode, where batch
    /// norm uses its running statistics, so each pair's output does not depend on the others): features
    /// (1, 4, R) of the pairs listed by <paramref name="denseIndex"/> (flat b·P + i(i+1)/2 + j, see
    /// <see cref="PairFeatures.ComputeRealPairs"/>) are embedded and scattered to (i, j) and (j, i); the
    /// entries of padded pairs are 0. They only ever meet a padded key (masked to −∞) or a padded query
    /// row (which never reaches the class token), so the model's outputs equal the dense path's.
    /// When nothing is recorded (inference) the embedding runs with the batch norms folded into the
    /// convolutions, chunk by chunk (<see cref="FoldedElements"/>).
    /// </summary>
    public Variable ForwardRealPairs(Variable realPairFeatures, int[] denseIndex, int b, int n)
    {
        int r = denseIndex.Length, p = PairCount(n);
        if (realPairFeatures.Shape != new Shape(1, realPairFeatures.Shape[1], r))
            throw new ArgumentException($"PairEmbed: real-pair features {realPairFeatures.Shape} must be (1, C, {r})");
        Variable padded;
        if (!Training && Tape.Current is null)
        {
            padded = Variable.Constant(FoldedElements(realPairFeatures.Data));
        }
        else
        {
            var elements = Elements(realPairFeatures);
            using var zero = Tensor.Zeros(elements.Backend, new Shape(1, Heads, 1), elements.DType);
            padded = Fn.Concat([elements, Variable.Constant(zero)], 2);
        }
        // Position of each dense pair in the real-pair list, r (the zero column) for padded pairs.
        var position = new int[(long)b * p];
        Array.Fill(position, r);
        for (int k = 0; k < r; k++) position[denseIndex[k]] = k;
        return SymmetricBias(padded, position, b, n);
    }

    /// <summary>
    /// Attention bias (B, H, N, N) from per-pair columns (1, H, ·): entry (b, h, i, j) is column
    /// pairColumn[b·P + hi(hi + 1)/2 + lo] of <paramref name="columns"/> (P = N(N+1)/2, hi = max(i, j),
    /// lo = min(i, j)), so (i, j) and (j, i) read the same column. One index_select (its backward
    /// accumulates every (i, j) into the pair's column), then (H, B, N, N) → (B, H, N, N).
    /// </summary>
    private Variable SymmetricBias(Variable columns, int[] pairColumn, int b, int n)
    {
        int p = PairCount(n);
        var map = new int[(long)b * n * n];
        Parallel.For(0, b, jet =>
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    int hi = Math.Max(i, j), lo = Math.Min(i, j);
                    map[((long)jet * n + i) * n + j] = pairColumn[(long)jet * p + hi * (hi + 1) / 2 + lo];
                }
            }
        });
        using var index = Tensor.FromArray<int>(columns.Backend, map, new Shape(b * n * n));
        var full = Fn.Reshape(Fn.IndexSelect(columns, 2, index), Heads, b, n, n);
        return Fn.Contiguous(Fn.Permute(full, 1, 0, 2, 3));
    }

    /// <summary>Pairs per chunk of <see cref="FoldedElements"/>: a (chunk, 64) float32 activation is 2 MiB, so a chunk's layers run out of cache.</summary>
    public const int FoldedChunk = 8192;

    /// <summary>
    /// Eval-mode embedding of pair features (1, C, U) → (1, H, U + 1), column U zero, when no gradient is
    /// recorded: every batch norm (running statistics) is folded into the adjacent 1×1 convolution
    /// (input BN into the first conv's columns, each conv's BN into its rows: W' = s·W·s₀, b' = s·(b + W·t₀) + t
    /// with s = γ/√(σ² + ε), t = β − μ·s; folded in float64 on the host, once, then cached until a parameter or
    /// running statistic changes: see <see cref="CachedFold"/>), and the pairs go through the
    /// layers (Linear form, one GEMM each with the bias and GELU in its epilogue) in chunks of <see cref="FoldedChunk"/> rows, so the
    /// intermediate activations stay in cache and are recycled chunk to chunk. Equals
    /// <see cref="Elements(Variable)"/> up to float rounding.
    /// </summary>
    public Tensor FoldedElements(Tensor features)
    {
        if (Training) throw new InvalidOperationException("PairEmbed: folded batch norms need eval mode");
        int c = features.Shape[1], u = features.Shape[2];
        if (features.Shape != new Shape(1, c, u)) throw new ArgumentException($"PairEmbed: pair features {features.Shape} must be (1, C, U)");
        var backend = features.Backend;
        var dtype = features.DType;
        var layers = CachedFold(backend, dtype);
        try
        {
            using var channels = TensorOps.Reshape(features, c, u);
            using var transposed = channels.Transpose(0, 1);
            using var rows = TensorOps.Contiguous(transposed);                  // (U, C)
            var output = Tensor.Zeros(backend, new Shape(Heads, u + 1), dtype); // column U stays 0
            for (int start = 0; start < u; start += FoldedChunk)
            {
                int length = Math.Min(FoldedChunk, u - start);
                using var scope = TensorScope.Begin();
                var h = rows.Slice(0, start, length);
                foreach (var (weightT, bias, gelu) in layers)
                {
                    h = TensorOps.MatMulEpilogue(h, weightT, GemmEpilogue.ColumnBiasThen(bias, gelu ? GemmActivation.Gelu : GemmActivation.None));
                }
                TensorOps.CopyInto(h.Transpose(0, 1), output.Slice(1, start, length));
            }
            using (output)
            {
                return TensorOps.Reshape(output, 1, Heads, u + 1);
            }
        }
        finally
        {
            foreach (var (weightT, bias, _) in layers)
            {
                weightT.Dispose();
                bias.Dispose();
            }
        }
    }

    /// <summary>Number of times the folded layers were computed (diagnostics: the cache's misses).</summary>
    public int FoldCount { get; private set; }

    // The folded layers for this backend and dtype, as aliases the caller disposes. They are computed once and
    // kept with the identity and Version of every parameter and buffer of this module (all of them feed the
    // fold); any in-place write (optimiser step, checkpoint load, train-mode running-statistic update), a
    // replaced parameter tensor (Variable.SetData) or another backend/dtype makes them stale and they are
    // refolded. The versions are taken before the values are read, so a concurrent write is never missed.
    private List<(Tensor WeightT, Tensor Bias, bool Gelu)> CachedFold(IBackend backend, DType dtype)
    {
        lock (_foldLock)
        {
            var sources = Parameters().Select(p => p.Data).Concat(NamedBuffers().Select(b => b.Buffer)).ToArray();
            if (_fold is null || !_fold.IsCurrent(backend, dtype, sources))
            {
                var versions = Array.ConvertAll(sources, t => t.Version);
                var layers = FoldLayers(backend, dtype);
                _fold?.Dispose();
                _fold = new FoldCache(backend, dtype, sources, versions, layers);
                FoldCount++;
            }
            return _fold.Layers.Select(l => (l.WeightT.Alias(), l.Bias.Alias(), l.Gelu)).ToList();
        }
    }

    private sealed class FoldCache(IBackend backend, DType dtype, Tensor[] sources, long[] versions, List<(Tensor WeightT, Tensor Bias, bool Gelu)> layers)
    {
        public List<(Tensor WeightT, Tensor Bias, bool Gelu)> Layers => layers;

        public bool IsCurrent(IBackend b, DType d, Tensor[] current)
        {
            if (!ReferenceEquals(b, backend) || d != dtype || current.Length != sources.Length) return false;
            for (int i = 0; i < current.Length; i++)
            {
                if (!ReferenceEquals(current[i], sources[i]) || current[i].Version != versions[i]) return false;
            }
            return true;
        }

        public void Dispose()
        {
            foreach (var (weightT, bias, _) in layers)
            {
                weightT.Dispose();
                bias.Dispose();
            }
        }
    }

    public override void Dispose()
    {
        lock (_foldLock)
        {
            _fold?.Dispose();
            _fold = null;
        }
        base.Dispose();
    }

    // The conv layers with the batch norms folded in: (Wᵀ (C, O), b (O), GELU) each.
    private List<(Tensor WeightT, Tensor Bias, bool Gelu)> FoldLayers(IBackend backend, DType dtype)
    {
        var (s0, t0) = Affine(_inputNorm);
        var folded = new List<(Tensor, Tensor, bool)>();
        bool first = true;
        foreach (var (conv, norm, gelu) in _layers)
        {
            int o = conv.OutChannels, c = conv.InChannels;
            var w = conv.Weight.Data.ToDoubleArray();
            var b = conv.Bias?.Data.ToDoubleArray() ?? new double[o];
            var (s, t) = Affine(norm);
            var wt = new double[c * o];
            var bf = new double[o];
            for (int row = 0; row < o; row++)
            {
                double shift = b[row];
                for (int col = 0; col < c; col++)
                {
                    double weight = w[row * c + col];
                    wt[col * o + row] = s[row] * weight * (first ? s0[col] : 1);
                    if (first) shift += weight * t0[col];
                }
                bf[row] = s[row] * shift + t[row];
            }
            folded.Add((Upload(backend, wt, new Shape(c, o), dtype), Upload(backend, bf, new Shape(o), dtype), gelu));
            first = false;
        }
        return folded;
    }

    // Eval batch norm as y = s·x + t per channel, in float64 on the host.
    private static (double[] Scale, double[] Shift) Affine(BatchNorm norm)
    {
        var (scale, shift) = norm.EvalAffine(DType.Float64);
        using (scale)
        using (shift)
        {
            return (scale.ToDoubleArray(), shift.ToDoubleArray());
        }
    }

    private static Tensor Upload(IBackend backend, double[] values, Shape shape, DType dtype) => dtype switch
    {
        DType.Float64 => Tensor.FromArray<double>(backend, values, shape).DetachFromScope(),
        DType.Float32 => Tensor.FromArray<float>(backend, Array.ConvertAll(values, v => (float)v), shape).DetachFromScope(),
        _ => throw new ArgumentException($"PairEmbed: folded layers need float32 or float64, got {dtype}"),
    };

    private static int PairCount(int n) => PairFeatures.PairCount(n);
}
