using Hep.Models.ParticleTransformer;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>ParT behaviour: shapes, pair-feature layout, trimming, float64 gradients, permutation and padding invariance.</summary>
public class ParticleTransformerTests
{
    private static IBackend Cpu => Backends.Cpu;

    private static ParticleTransformerConfig Tiny(bool plain = false) => new ParticleTransformerConfig(3, 2)
    {
        EmbedDims = [8, 8], PairEmbedDims = [4], NumHeads = 2, NumLayers = 1, NumClassLayers = 1, FfnRatio = 2, Trim = false,
        PairInputDim = plain ? 0 : 4, Fcs = [new FcSpec(5, 0)],
    }.WithoutDropout();

    private static ParticleTransformerConfig Small(int inputs) => new ParticleTransformerConfig(inputs, 3)
    {
        EmbedDims = [16, 32, 16], PairEmbedDims = [8, 8], NumHeads = 4, NumLayers = 2, NumClassLayers = 1, Trim = false,
    };

    private static Variable Run(ParticleTransformer.ParticleTransformer model, SyntheticJets jets, DType dtype = DType.Float32) =>
        model.Forward(Variable.Constant(jets.FeaturesTensor(Cpu, dtype)), jets.VectorsTensor(Cpu, dtype), jets.MaskTensor(Cpu, dtype));

    [Test]
    public void OutputShapeIsBatchByClassesAndFinite()
    {
        var jets = new SyntheticJets(3, 10, 5, [10, 4, 7], seed: 1);
        using var scope = TensorScope.Begin();
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, Small(5));
        foreach (bool training in new[] { true, false })
        {
            model.Train(training);
            var y = Run(model, jets);
            Assert.That(y.Shape, Is.EqualTo(new Shape(3, 3)));
            Assert.That(y.Data.ToDoubleArray().All(double.IsFinite));
        }
    }

    [Test]
    public void PairFeaturesUseTheLowerTriangleLayoutAndTheReferenceFormulas()
    {
        // Two particles: pair (1, 0) sits at index 1, the diagonal at 0 and 2.
        float[] v = [10, 0, /*py*/ 0, 5, /*pz*/ 0, 2, /*E*/ 10.5f, 6];
        using var scope = TensorScope.Begin();
        var pf = PairFeatures.Compute(Tensor.FromArray<float>(Cpu, v, new Shape(1, 4, 2))).ToArray<float>();
        Assert.That(pf.Length, Is.EqualTo(4 * 3));
        double pt0 = 10, pt1 = 5, y0 = 0.5 * Math.Log((10.5 + 0) / (10.5 - 0)), y1 = 0.5 * Math.Log((6 + 2) / (6 - 2.0));
        double dphi = 0 - Math.PI / 2, delta = Math.Sqrt((y1 - y0) * (y1 - y0) + dphi * dphi);
        Assert.That(pf[1], Is.EqualTo(Math.Log(Math.Min(pt0, pt1) * delta)).Within(1e-5), "ln kT");
        Assert.That(pf[3 + 1], Is.EqualTo(Math.Log(5.0 / 15.0)).Within(1e-5), "ln z");
        Assert.That(pf[6 + 1], Is.EqualTo(Math.Log(delta)).Within(1e-5), "ln Δ");
        double m2 = 16.5 * 16.5 - (10 * 10 + 5 * 5 + 2 * 2);
        Assert.That(pf[9 + 1], Is.EqualTo(Math.Log(m2)).Within(1e-5), "ln m²");
        Assert.That(pf[6 + 0], Is.EqualTo((float)Math.Log(1e-8f)), "self pair: ln Δ clamped at 1e-8");
        var map = PairFeatures.SymmetricIndex(3);
        Assert.That(map, Is.EqualTo(new[] { 0, 1, 3, 1, 2, 4, 3, 4, 5 }));
    }

    [Test]
    public void EvalTrimmingAfterFiveCallsChangesNothing()
    {
        var jets = new SyntheticJets(2, 12, 5, [7, 4], seed: 2);
        using var scope = TensorScope.Begin();
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, Small(5) with { Trim = true });
        model.Eval();
        var first = Run(model, jets).Data.ToDoubleArray();
        for (int i = 0; i < 5; i++) Run(model, jets);
        var trimmed = Run(model, jets).Data.ToDoubleArray();
        TensorAssert.Close(trimmed, first, 1e-5, 1e-5, "trimmed to 7 slots");
    }

    [Test]
    public void TrainingTrimmerShufflesAndCutsToAQuantileOfTheCounts()
    {
        var trimmer = new SequenceTrimmer(enabled: true, seed: 3);
        var jets = new SyntheticJets(4, 10, 2, [10, 9, 3, 2], seed: 3);
        using var scope = TensorScope.Begin();
        var f = jets.FeaturesTensor(Cpu, DType.Float32);
        var m = jets.MaskTensor(Cpu, DType.Float32);
        for (int i = 0; i < 5; i++) Assert.That(trimmer.Apply(f, null, m, training: true).Changed, Is.False);
        var (features, _, mask, changed) = trimmer.Apply(f, null, m, training: true);
        Assert.That(changed, Is.True);
        Assert.That(mask.Shape[2], Is.InRange(9, 10), "q ≥ 0.9 of counts {10, 9, 3, 2}");
        var counts = Enumerable.Range(0, 4).Select(b => mask.ToDoubleArray().Skip(b * mask.Shape[2]).Take(mask.Shape[2]).Sum()).ToArray();
        Assert.That(counts, Is.EqualTo(new double[] { Math.Min(10, mask.Shape[2]), 9, 3, 2 }));
        // Real particles stay first and keep their feature values (as a set).
        var before = jets.Features.Skip(2 * 2 * 10).Take(3).OrderBy(x => x).ToArray();
        var after = features.ToDoubleArray().Skip(2 * 2 * mask.Shape[2]).Take(3).OrderBy(x => x).ToArray();
        Assert.That(after, Is.EqualTo(before.Select(x => (double)(float)x)).Within(1e-7));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Float64GradientsOfParametersAndInputs(bool plain)
    {
        var jets = new SyntheticJets(2, 4, 3, [4, 3], seed: 4);
        using var scope = TensorScope.Begin();
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, Tiny(plain), seed: 3, dtype: DType.Float64);
        model.Train();
        var features = jets.FeaturesTensor(Cpu, DType.Float64);
        var vectors = jets.VectorsTensor(Cpu, DType.Float64);
        var mask = jets.MaskTensor(Cpu, DType.Float64);
        ParameterGradCheck.AssertPasses(model, () => model.Forward(Variable.Constant(features), vectors, mask), maxPerTensor: 12);
        var result = GradCheck.Check(v => model.Forward(v[0], vectors, mask), [features]);
        Assert.That(result.Passed, Is.True, result.Report);
    }

    [Test]
    public void ShufflingRealParticlesLeavesEvalOutputsUnchanged()
    {
        var jets = new SyntheticJets(3, 12, 5, [12, 8, 5], seed: 5);
        var shuffled = jets.Shuffled(9);
        using var scope = TensorScope.Begin();
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, Small(5));
        model.Eval();
        TensorAssert.Close(Run(model, shuffled).Data, Run(model, jets).Data, 1e-5, 1e-4, "shuffled particles");
    }

    [Test]
    public void ExtraPaddedSlotsLeaveEvalOutputsUnchanged()
    {
        var jets = new SyntheticJets(3, 10, 5, [10, 6, 3], seed: 6);
        var padded = jets.Padded(6);
        using var scope = TensorScope.Begin();
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, Small(5));
        model.Eval();
        TensorAssert.Close(Run(model, padded).Data, Run(model, jets).Data, 1e-5, 1e-4, "extra padding");
    }
}
