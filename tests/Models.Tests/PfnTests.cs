using Hep.Models.Pfn;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>Particle Flow Network: parameter count, shapes, float64 gradients, permutation and padding invariance.</summary>
public class PfnTests
{
    private static IBackend Cpu => Backends.Cpu;

    [Test]
    public void JetClassBenchmarkParameterCount()
    {
        using var model = new ParticleFlowNetwork(Cpu, new ParticleFlowNetworkConfig(17, 10));
        Assert.That(model.ParameterCount, Is.EqualTo(86_154L));
        Assert.That(model.NamedParameters().Select(p => p.Name).Take(2), Is.EqualTo(new[] { "phi.0.0.weight", "phi.0.0.bias" }));
        Assert.That(model.NamedParameters().Last().Name, Is.EqualTo("fc.3.bias"));
    }

    [Test]
    public void Float64GradientsOfParametersAndInputs()
    {
        var jets = new SyntheticJets(3, 5, 4, [5, 3, 1], seed: 1);
        using var scope = TensorScope.Begin();
        using var model = new ParticleFlowNetwork(Cpu, new ParticleFlowNetworkConfig(4, 3) { PhiSizes = [6, 5], FSizes = [7], UseInputBatchNorm = true }, dtype: DType.Float64);
        model.Train();
        var features = jets.FeaturesTensor(Cpu, DType.Float64);
        var mask = jets.MaskTensor(Cpu, DType.Float64);
        ParameterGradCheck.AssertPasses(model, () => model.Forward(Variable.Constant(features), mask));
        var result = GradCheck.Check(v => model.Forward(v[0], mask), [features]);
        Assert.That(result.Passed, Is.True, result.Report);
    }

    [Test]
    public void InvariantToParticleOrderAndPaddingInEval()
    {
        var jets = new SyntheticJets(3, 16, 17, [16, 9, 4], seed: 2);
        using var scope = TensorScope.Begin();
        using var model = new ParticleFlowNetwork(Cpu, new ParticleFlowNetworkConfig(17, 10));
        model.Eval();
        var a = model.Forward(Variable.Constant(jets.FeaturesTensor(Cpu, DType.Float32)), jets.MaskTensor(Cpu, DType.Float32));
        Assert.That(a.Shape, Is.EqualTo(new Shape(3, 10)));
        var s = jets.Shuffled(5);
        var b = model.Forward(Variable.Constant(s.FeaturesTensor(Cpu, DType.Float32)), s.MaskTensor(Cpu, DType.Float32));
        var p = jets.Padded(7);
        var c = model.Forward(Variable.Constant(p.FeaturesTensor(Cpu, DType.Float32)), p.MaskTensor(Cpu, DType.Float32));
        TensorAssert.Close(b.Data, a.Data, 1e-5, 1e-5, "shuffled");
        TensorAssert.Close(c.Data, a.Data, 1e-5, 1e-5, "padded");
    }
}
