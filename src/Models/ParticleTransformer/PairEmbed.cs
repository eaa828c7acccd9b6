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
        int u = pairs.Count, p = PairCount(n);
        if (distinctFeatures.Shape != new Shape(1, distinctFeatures.Shape[1], u))
            throw new ArgumentException($"PairEmbed: distinct pair features {distinctFeatures.Shape} must be (1, C, {u})");
        using var weights = Tensor.FromArray<double>(distinctFeatures.Backend, pairs.Multiplicity, new Shape(u, 1));
        using var typed = TensorOps.Cast(weights, distinctFeatures.DType);
        var elements = Elements(distinctFeatures, typed);
        var denseToDistinct = pairs.DenseToDistinct;
        var map = new int[(long)b * n * n];
        Parallel.For(0, b, jet =>
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    int hi = Math.Max(i, j), lo = Math.Min(i, j);
                    map[((long)jet * n + i) * n + j] = denseToDistinct[(long)jet * p + hi * (hi + 1) / 2 + lo];
                }
            }
        });
        using var index = Tensor.FromArray<int>(elements.Backend, map, new Shape(b * n * n));
        var full = Fn.Reshape(Fn.IndexSelect(elements, 2, index), Heads, b, n, n);
        return Fn.Contiguous(Fn.Permute(full, 1, 0, 2, 3));
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
    /// </summary>
    public Variable ForwardRealPairs(Variable realPairFeatures, int[] denseIndex, int b, int n)
    {
        int r = denseIndex.Length, p = PairCount(n);
        if (realPairFeatures.Shape != new Shape(1, realPairFeatures.Shape[1], r))
            throw new ArgumentException($"PairEmbed: real-pair features {realPairFeatures.Shape} must be (1, C, {r})");
        var elements = Elements(realPairFeatures);
        using var zero = Tensor.Zeros(elements.Backend, new Shape(1, Heads, 1), elements.DType);
        var padded = Fn.Concat([elements, Variable.Constant(zero)], 2);
        // Position of each dense pair in the real-pair list, r (the zero column) for padded pairs.
        var position = new int[(long)b * p];
        Array.Fill(position, r);
        for (int k = 0; k < r; k++) position[denseIndex[k]] = k;
        var map = new int[(long)b * n * n];
        Parallel.For(0, b, jet =>
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    int hi = Math.Max(i, j), lo = Math.Min(i, j);
                    map[((long)jet * n + i) * n + j] = position[(long)jet * p + hi * (hi + 1) / 2 + lo];
                }
            }
        });
        using var index = Tensor.FromArray<int>(elements.Backend, map, new Shape(b * n * n));
        var full = Fn.Reshape(Fn.IndexSelect(padded, 2, index), Heads, b, n, n);
        return Fn.Contiguous(Fn.Permute(full, 1, 0, 2, 3));
    }

    private static int PairCount(int n) => PairFeatures.PairCount(n);
}
