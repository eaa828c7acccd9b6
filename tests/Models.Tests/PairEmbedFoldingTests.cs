using Hep.Models.Nn;
using Hep.Models.ParticleTransformer;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>
/// The eval-mode pair embedding with batch norms folded into the convolutions and run in chunks
/// (<see cref="PairEmbed.FoldedElements"/>, taken when no gradient is recorded) against the unfused
/// layer-by-layer embedding: equal up to float rounding (float64: 1e-12), padded column zero, and the
/// whole model's eval outputs unchanged between the inference path and the recorded (unfused) one.
/// </summary>
public class PairEmbedFoldingTests
{
    private static IBackend Cpu => Backends.Cpu;

    // Non-trivial running statistics and affine parameters in every batch norm, so that a folding
    // mistake (wrong axis, missing shift, ε) shows.
    private static void Randomise(Module module, int seed)
    {
        int k = 0;
        foreach (var norm in module.Modules().OfType<BatchNorm>())
        {
            int c = norm.RunningMean.Shape[0];
            Set(norm.RunningMean, Rand.Doubles(seed + k++, c, -0.5, 0.5));
            Set(norm.RunningVar, Rand.Doubles(seed + k++, c, 0.3, 2.5));
            Set(norm.Weight!.Data, Rand.Doubles(seed + k++, c, 0.5, 1.5));
            Set(norm.Bias!.Data, Rand.Doubles(seed + k++, c, -0.3, 0.3));
        }
    }

    private static void Set(Tensor t, double[] values)
    {
        using var source = Operands.FromDoubles(t.Backend, values, t.Shape, t.DType);
        TensorOps.CopyInto(source, t);
    }

    [TestCase(DType.Float64, false, 1e-12)]
    [TestCase(DType.Float32, false, 2e-5)]
    [TestCase(DType.Float32, true, 2e-5)]
    public void FoldedChunkedEmbedding_EqualsTheUnfusedOne(DType dtype, bool preActivation, double tolerance)
    {
        // Three chunks, the last one ragged.
        int u = 2 * PairEmbed.FoldedChunk + 37, heads = 3;
        using var scope = TensorScope.Begin();
        using var embed = new PairEmbed(Cpu, 4, [16, 12], heads, preActivation, seed: 5, dtype);
        Randomise(embed, 40);
        embed.Eval();
        var data = Rand.Doubles(41, 4 * u, -3, 3);
        var features = Operands.FromDoubles(Cpu, data, new Shape(1, 4, u), dtype);
        using var noGrad = Tape.NoGrad();
        var folded = embed.FoldedElements(features);
        Assert.That(folded.Shape, Is.EqualTo(new Shape(1, heads, u + 1)));
        var reference = embed.Elements(Variable.Constant(features)).Data.ToDoubleArray();
        var actual = folded.ToDoubleArray();
        double worst = 0;
        for (int h = 0; h < heads; h++)
        {
            Assert.That(actual[h * (u + 1) + u], Is.EqualTo(0.0), $"padded column of head {h}");
            for (int i = 0; i < u; i++)
            {
                double e = reference[h * u + i], a = actual[h * (u + 1) + i];
                worst = Math.Max(worst, Math.Abs(a - e) / (1 + Math.Abs(e)));
            }
        }
        Assert.That(worst, Is.LessThan(tolerance), "largest |folded − unfused| / (1 + |unfused|)");
    }

    [Test]
    public void FoldedEmbedding_RefusesTrainingMode()
    {
        using var scope = TensorScope.Begin();
        using var embed = new PairEmbed(Cpu, 4, [8], 2, preActivation: false, seed: 1);
        using var features = Tensor.Zeros(Cpu, new Shape(1, 4, 10), DType.Float32);
        Assert.Throws<InvalidOperationException>(() => embed.FoldedElements(features));
    }

    [Test]
    public void EvalModelOutputs_InferencePathEqualsTheRecordedOne()
    {
        // The inference path (no tape: folded pair embedding, head gathers without a zero row) against the
        // same eval forward with a tape recording (unfused embedding, zero-row gathers).
        var jets = new SyntheticJets(4, 40, 5, [40, 23, 7, 31], seed: 8);
        using var scope = TensorScope.Begin();
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, new ParticleTransformerConfig(5, 3)
        {
            EmbedDims = [16, 32, 16], PairEmbedDims = [8, 8], NumHeads = 4, NumLayers = 2, NumClassLayers = 1, Trim = false,
        });
        Randomise(model, 70);
        model.Eval();
        Variable Run() => model.Forward(Variable.Constant(jets.FeaturesTensor(Cpu, DType.Float32)),
            jets.VectorsTensor(Cpu, DType.Float32), jets.MaskTensor(Cpu, DType.Float32));
        double[] inference, recorded;
        using (Tape.NoGrad()) inference = Run().Data.ToDoubleArray();
        using (Tape.Begin()) recorded = Run().Data.ToDoubleArray();
        Assert.That(inference.All(double.IsFinite));
        TensorAssert.Close(inference, recorded, 1e-5, 1e-4, "eval logits");
    }
}
