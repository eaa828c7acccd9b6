using Hep.Models.ParticleNet;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>ParticleNet behaviour: shapes, configuration strings, float64 gradients, permutation and padding invariance.</summary>
public class ParticleNetTests
{
    private static IBackend Cpu => Backends.Cpu;

    // The model on the jets' float32 points, features and mask (CPU backend).
    private static Variable Run(ParticleNet.ParticleNet model, SyntheticJets jets) =>
        model.Forward(jets.PointsTensor(Cpu, DType.Float32), Variable.Constant(jets.FeaturesTensor(Cpu, DType.Float32)), jets.MaskTensor(Cpu, DType.Float32));

    private static ParticleNetConfig Tiny(bool fusion = false) =>
        new(3, 2, [new EdgeConvSpec(3, [4, 4]), new EdgeConvSpec(2, [5])], [new FcSpec(6, 0)], UseFusion: fusion);

    [Test]
    public void ParsesTheUsersConfigurationStrings()
    {
        var config = ParticleNetConfig.Parse(17, 10, "[[16,[64,64,64]],[16,[128,128,128]],[16,[256,256,256]]]", "[[256,0.1]]");
        Assert.That(config.EdgeConvs.Select(e => (e.K, string.Join(",", e.Channels))),
            Is.EqualTo(new[] { (16, "64,64,64"), (16, "128,128,128"), (16, "256,256,256") }));
        Assert.That(config.Fcs, Is.EqualTo(new[] { new FcSpec(256, 0.1) }));
        using var model = new ParticleNet.ParticleNet(Cpu, config);
        Assert.That(model.ParameterCount, Is.EqualTo(370_156L));
        var lite = ParticleNetConfig.Parse(7, 2, "[(7, (32, 32, 32)), (7, (64, 64, 64))]", "[(128, 0.1)]");
        Assert.That(lite.EdgeConvs[1].Channels, Is.EqualTo(new[] { 64, 64, 64 }));
        Assert.Throws<FormatException>(() => ParticleNetConfig.Parse(7, 2, "[[16,64]]", "[[256,0.1]]"));
        Assert.Throws<FormatException>(() => ParticleNetConfig.Parse(7, 2, "[[16,[64]]]", "[[256,1.5]]"));
        Assert.Throws<FormatException>(() => ParticleNetConfig.Parse(7, 2, "[[16,[64]", "[]"));
    }

    [Test]
    public void OutputShapeIsBatchByClassesAndFinite()
    {
        var jets = new SyntheticJets(3, 20, 7, [20, 9, 12], seed: 1);
        using var scope = TensorScope.Begin();
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 2));
        foreach (bool training in new[] { true, false })
        {
            model.Train(training);
            var y = Run(model, jets);
            Assert.That(y.Shape, Is.EqualTo(new Shape(3, 2)));
            Assert.That(y.Data.ToDoubleArray().All(double.IsFinite));
        }
    }

    [Test]
    public void MaskDerivedFromNonZeroFeaturesEqualsTheExplicitMask()
    {
        var jets = new SyntheticJets(2, 16, 7, [16, 10], seed: 2);
        using var scope = TensorScope.Begin();
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 3));
        model.Eval();
        var explicitMask = Run(model, jets);
        var derived = model.Forward(jets.PointsTensor(Cpu, DType.Float32), Variable.Constant(jets.FeaturesTensor(Cpu, DType.Float32)));
        TensorAssert.Close(derived.Data, explicitMask.Data, 0, 0, "derived mask");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Float64GradientsOfParametersAndInputs(bool fusion)
    {
        var jets = new SyntheticJets(2, 6, 3, [6, 4], seed: 3);
        using var scope = TensorScope.Begin();
        using var model = new ParticleNet.ParticleNet(Cpu, Tiny(fusion), seed: 5, dtype: DType.Float64);
        model.Train();
        // Fixed neighbour graphs (any valid indices): finite differences must not flip a kNN choice.
        var rng = new Random(4);
        var graphs = model.Blocks.Select(b => Tensor.FromArray<int>(Cpu, Enumerable.Range(0, 2 * 6 * b.K).Select(_ => rng.Next(6)).ToArray(), new Shape(2, 6, b.K))).ToArray();
        model.NeighbourOverride = i => graphs[i];
        var points = jets.PointsTensor(Cpu, DType.Float64);
        var features = jets.FeaturesTensor(Cpu, DType.Float64);
        var mask = jets.MaskTensor(Cpu, DType.Float64);
        ParameterGradCheck.AssertPasses(model, () => model.Forward(points, Variable.Constant(features), mask));
        var result = GradCheck.Check(v => model.Forward(points, v[0], mask), [features]);
        Assert.That(result.Passed, Is.True, result.Report);
    }

    [Test]
    public void ShufflingRealParticlesLeavesEvalOutputsUnchanged()
    {
        var jets = new SyntheticJets(3, 24, 7, [24, 17, 9], seed: 6);
        var shuffled = jets.Shuffled(11);
        using var scope = TensorScope.Begin();
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 4) with { UseFusion = true });
        model.Eval();
        var a = Run(model, jets);
        var b = Run(model, shuffled);
        TensorAssert.Close(b.Data, a.Data, 1e-5, 1e-5, "shuffled particles");
    }

    [Test]
    public void ExtraPaddedSlotsLeaveEvalOutputsUnchanged()
    {
        var jets = new SyntheticJets(3, 20, 7, [20, 12, 8], seed: 7);
        var padded = jets.Padded(9);
        using var scope = TensorScope.Begin();
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 2));
        model.Eval();
        var a = Run(model, jets);
        var b = Run(model, padded);
        TensorAssert.Close(b.Data, a.Data, 1e-5, 1e-5, "extra padding");
    }

    [Test]
    public void InputBatchNormAndCountPoolingOptions()
    {
        using (var noBn = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 2) with { UseFtsBn = false }))
        {
            Assert.That(noBn.ParameterCount, Is.EqualTo(26_416L - 2 * 7));
            Assert.That(noBn.NamedParameters().Any(p => p.Name.StartsWith("bn_fts")), Is.False);
        }
        var full = new SyntheticJets(2, 16, 7, [16, 16], seed: 8);
        var partial = new SyntheticJets(2, 16, 7, [16, 9], seed: 8);
        using var scope = TensorScope.Begin();
        using var counts = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 2), seed: 4);
        using var mean = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 2) with { UseCounts = false }, seed: 4);
        counts.Eval();
        mean.Eval();
        // Without padding the true count is N, so both poolings agree; with padding only use_counts ignores the empty slots.
        TensorAssert.Close(Run(mean, full).Data, Run(counts, full).Data, 1e-6, 1e-5, "no padding");
        var withPadding = Run(mean, partial).Data.ToDoubleArray();
        var byCounts = Run(counts, partial).Data.ToDoubleArray();
        Assert.That(Math.Abs(withPadding[2] - byCounts[2]) + Math.Abs(withPadding[3] - byCounts[3]), Is.GreaterThan(1e-4), "mean over all 16 slots differs for the 9-particle jet");
        Assert.That(withPadding[0], Is.EqualTo(byCounts[0]).Within(1e-5), "the full jet is unaffected");
    }
}
