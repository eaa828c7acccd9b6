using Hep.Models.ParticleTransformer;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>
/// The training-mode pair embedding over distinct pair rows (<see cref="DistinctPairs"/>) against the
/// dense embedding of every lower-triangle pair: grouping only merges bit-identical features, and bias,
/// parameter gradients and batch-norm running statistics equal the dense path's.
/// </summary>
public class DistinctPairsTests
{
    private static IBackend Cpu => Backends.Cpu;

    // Three jets in 6 slots: 6, 3 and 1 real particles; jet 2's padded slot 4 carries a non-zero vector
    // (its pairs must not merge with other padded pairs).
    private static (double[] Vectors, double[] Mask) Batch()
    {
        var jets = new SyntheticJets(3, 6, 2, [6, 3, 1], seed: 7);
        var vectors = (double[])jets.Vectors.Clone();
        for (int c = 0; c < 4; c++) vectors[(2 * 4 + c) * 6 + 4] = c == 3 ? 9.0 : 1.0 + c;
        return (vectors, jets.Mask);
    }

    [Test]
    public void Find_MergesOnlyBitIdenticalPairs()
    {
        var (vectors, mask) = Batch();
        using var scope = TensorScope.Begin();
        var features = PairFeatures.Compute(Tensor.FromArray<double>(Cpu, vectors, new Shape(3, 4, 6))).ToDoubleArray();
        int p = PairFeatures.PairCount(6);
        var pairs = DistinctPairs.Find(features, 3, 4, 6, mask);
        Assert.That(pairs.Multiplicity.Sum(), Is.EqualTo(3 * p), "every dense pair counted once");
        for (int at = 0; at < 3 * p; at++)
        {
            int rep = pairs.Representatives[pairs.DenseToDistinct[at]];
            for (int c = 0; c < 4; c++)
                Assert.That(features[(at / p * 4 + c) * p + at % p], Is.EqualTo(features[(rep / p * 4 + c) * p + rep % p]), $"pair {at} channel {c}");
        }
        for (int u = 0; u < pairs.Count; u++)
            Assert.That(pairs.DenseToDistinct.Count(d => d == u), Is.EqualTo(pairs.Multiplicity[u]), $"multiplicity of row {u}");
        // Jet 0: 21 real pairs. Jet 1: 6 real pairs, one row per real particle with padded partners, one
        // (padded, padded) row. Jet 2 (real 0; padded slot 4 non-zero): (0, 0); one row for (zero-padded, 0);
        // (4, 0), (4, 4) and the four (4, zero-padded) pairs keep their own rows (they fail the check against
        // their class's first pair); (zero-padded, zero-padded) is jet 1's row.
        Assert.That(pairs.Count, Is.EqualTo(21 + (6 + 3 + 1) + (1 + 1 + 1 + 1 + 4)));
    }

    [Test]
    public void DistinctEmbedding_MatchesTheDenseOne_BiasGradientsAndRunningStatistics()
    {
        var (vectors, mask) = Batch();
        int b = 3, n = 6, p = PairFeatures.PairCount(n);
        using var scope = TensorScope.Begin();
        using var dense = new PairEmbed(Cpu, 4, [5, 6], 2, preActivation: false, seed: 3, DType.Float64);
        using var distinct = new PairEmbed(Cpu, 4, [5, 6], 2, preActivation: false, seed: 3, DType.Float64);
        var features = PairFeatures.Compute(Tensor.FromArray<double>(Cpu, vectors, new Shape(b, 4, n)));
        var pairs = DistinctPairs.Find(features.ToDoubleArray(), b, 4, n, mask);
        Assert.That(pairs.Count, Is.LessThan(2 * b * p / 3), "the batch has duplicates to merge");
        using var view = features.Permute(1, 0, 2);
        using var flat = TensorOps.Reshape(TensorOps.Contiguous(view), 1, 4, b * p);
        var rows = TensorOps.IndexSelect(flat, 2, Tensor.FromArray<int>(Cpu, pairs.Representatives, new Shape(pairs.Count)));
        var rng = new Random(11);
        var projection = Tensor.FromArray<double>(Cpu, Enumerable.Range(0, b * 2 * n * n).Select(_ => rng.NextDouble() - 0.5).ToArray(), new Shape(b, 2, n, n));

        double[] Step(PairEmbed embed, Func<Variable> forward, out Dictionary<string, double[]> grads)
        {
            embed.Train();
            using var tape = Tape.Begin();
            var bias = forward();
            var loss = Fn.SumAll(Fn.Mul(bias, Variable.Constant(projection)));
            tape.Backward(loss);
            grads = embed.NamedParameters().ToDictionary(x => x.Name, x => x.Parameter.Grad!.ToDoubleArray());
            return bias.Data.ToDoubleArray();
        }

        var expected = Step(dense, () => dense.Forward(Variable.Constant(features), n), out var denseGrads);
        var actual = Step(distinct, () => distinct.ForwardDistinct(Variable.Constant(rows), pairs, b, n), out var distinctGrads);
        Assert.That(actual, Is.EqualTo(expected).Within(1e-10), "attention bias");
        double largest = denseGrads.Values.Max(g => g.Max(Math.Abs));
        foreach (var (name, g) in denseGrads)
        {
            // Conv biases right before a train-mode batch norm have gradients that vanish in exact arithmetic.
            if (name.EndsWith(".weight", StringComparison.Ordinal)) Assert.That(g.Max(Math.Abs), Is.GreaterThan(1e-6 * largest), $"{name}: dense gradient is not degenerate");
            Assert.That(distinctGrads[name], Is.EqualTo(g).Within(1e-10 * largest), $"gradient of {name}");
        }
        var denseBuffers = dense.NamedBuffers().ToDictionary(x => x.Name, x => x.Buffer.ToDoubleArray());
        foreach (var (name, buffer) in distinct.NamedBuffers())
            Assert.That(buffer.ToDoubleArray(), Is.EqualTo(denseBuffers[name]).Within(1e-10), $"running statistic {name}");
    }
}
