using Hep.Models.Checkpoints;
using Hep.Models.HeteroNet;
using Hep.Models.Nn;
using Hep.Models.ParticleNet;
using Hep.Models.ParticleTransformer;
using Hep.Models.Pfn;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>
/// Every model on the ILGPU backend (its CPU accelerator runs the GPU kernels) against the CPU backend:
/// same weights, one training-mode forward and backward of a small configuration; logits, loss and every
/// gradient must agree to float32 tolerance.
/// </summary>
[NonParallelizable]
public class CrossBackendTests
{
    private static IBackend Cpu => Backends.Cpu;
    private static IBackend Gpu => Backends.IlgpuCpu;

    private static void Compare<TModel>(Func<IBackend, TModel> build, Func<TModel, IBackend, Variable> forward) where TModel : Module
    {
        using var reference = build(Cpu);
        using var other = build(Gpu);
        StateDictLoader.Load(other, StateDictLoader.Export(reference));
        double[] Run(TModel model, IBackend backend, out Dictionary<string, double[]> grads)
        {
            using var scope = TensorScope.Begin();
            using var tape = Tape.Begin();
            var loss = forward(model, backend);
            var value = loss.Data.ToDoubleArray();
            tape.Backward(loss);
            grads = model.NamedParameters().Where(p => p.Parameter.Grad is not null).ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToDoubleArray());
            model.ZeroGrad();
            return value;
        }
        var expected = Run(reference, Cpu, out var expectedGrads);
        var actual = Run(other, Gpu, out var actualGrads);
        TensorAssert.Close(actual, expected, 1e-5, 1e-4, "loss");
        Assert.That(actualGrads.Keys, Is.EquivalentTo(expectedGrads.Keys));
        foreach (var (name, g) in expectedGrads)
        {
            double scale = g.Max(Math.Abs);
            TensorAssert.Close(actualGrads[name], g, 1e-4 * scale + 1e-6, 1e-3, name, allowAllZero: true);
        }
    }

    private static Tensor Labels(IBackend backend, params int[] labels) => Tensor.FromArray<int>(backend, labels, new Shape(labels.Length));

    [Test]
    public void ParticleNet()
    {
        var jets = new SyntheticJets(2, 12, 4, [12, 7], seed: 1);
        var config = new ParticleNetConfig(4, 2, [new EdgeConvSpec(4, [8, 8]), new EdgeConvSpec(3, [6])], [new FcSpec(8, 0)], UseFusion: true);
        Compare(b => new ParticleNet.ParticleNet(b, config, seed: 2),
            (m, b) => Fn.CrossEntropy(m.Forward(jets.PointsTensor(b, DType.Float32), Variable.Constant(jets.FeaturesTensor(b, DType.Float32)), jets.MaskTensor(b, DType.Float32)), Labels(b, 0, 1)));
    }

    [Test]
    public void ParticleTransformer()
    {
        var jets = new SyntheticJets(2, 6, 3, [6, 4], seed: 3);
        var config = new ParticleTransformerConfig(3, 2) { EmbedDims = [16, 16], PairEmbedDims = [8], NumHeads = 2, NumLayers = 1, NumClassLayers = 1, Trim = false }.WithoutDropout();
        Compare(b => new ParticleTransformer.ParticleTransformer(b, config, seed: 4),
            (m, b) => Fn.CrossEntropy(m.Forward(Variable.Constant(jets.FeaturesTensor(b, DType.Float32)), jets.VectorsTensor(b, DType.Float32), jets.MaskTensor(b, DType.Float32)), Labels(b, 1, 0)));
    }

    [Test]
    public void ParticleFlowNetwork()
    {
        var jets = new SyntheticJets(3, 8, 5, [8, 3, 5], seed: 5);
        var config = new ParticleFlowNetworkConfig(5, 3) { PhiSizes = [16, 16], FSizes = [16], UseInputBatchNorm = true };
        Compare(b => new ParticleFlowNetwork(b, config, seed: 6),
            (m, b) => Fn.CrossEntropy(m.Forward(Variable.Constant(jets.FeaturesTensor(b, DType.Float32)), jets.MaskTensor(b, DType.Float32)), Labels(b, 0, 2, 1)));
    }

    [Test]
    public void HeteroNet()
    {
        var config = new HeteroNetConfig { EmbedSize = 8, NumLayers = 2, DecoderDropout = 0 };
        var events = new[] { HeteroNetTests.Event(3, 4, 1, config, 2), HeteroNetTests.Event(4, 3, 2, config, 4) };
        Compare(b => new HeteroNet.HeteroNet(b, config, seed: 7), (m, b) =>
        {
            var batch = HeteroGraphBatch.Create(b, events, config);
            return Fn.CrossEntropy(m.Forward(batch), batch.LabelTensor(b));
        });
    }
}
