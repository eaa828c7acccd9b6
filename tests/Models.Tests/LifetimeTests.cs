using Hep.Engine.Diagnostics;
using Hep.Models.HeteroNet;
using Hep.Models.Nn;
using Hep.Models.Optim;
using Hep.Models.ParticleNet;
using Hep.Models.ParticleTransformer;
using Hep.Models.Pfn;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>
/// A training step (forward, loss, backward, optimiser) and an eval forward of every model inside a
/// TensorScope leave the live-buffer count and bytes exactly where they were (nothing leaks per step; a
/// stale eval-time cache rebuilt after the steps replaces the old one).
/// </summary>
[NonParallelizable]
public class LifetimeTests
{
    private static IBackend Cpu => Backends.Cpu;

    private static void AssertNoLeak(Module model, Func<Variable> loss, Func<Variable> predict)
    {
        using var opt = new AdamW(model.Parameters(), 1e-3);
        void Step()
        {
            using var scope = TensorScope.Begin();
            using var tape = Tape.Begin();
            var l = loss();
            opt.ZeroGrad();
            tape.Backward(l);
            opt.Step();
        }
        Step();
        model.ZeroGrad();
        // Eval-time caches a model keeps between forwards (ParT's folded pair embedding) exist from here on;
        // after the steps below they are stale and rebuilt, which must free the old ones.
        model.Eval();
        using (TensorScope.Begin()) predict();
        model.Train();
        long count = LiveBufferStats.Count(Cpu.Name), bytes = LiveBufferStats.Bytes(Cpu.Name);
        for (int i = 0; i < 3; i++)
        {
            Step();
            model.ZeroGrad();
        }
        model.Eval();
        using (TensorScope.Begin()) predict();
        model.Train();
        Assert.That(LiveBufferStats.Count(Cpu.Name), Is.EqualTo(count), "live buffers");
        Assert.That(LiveBufferStats.Bytes(Cpu.Name), Is.EqualTo(bytes), "live bytes");
    }

    [Test]
    public void ParticleNetStep()
    {
        var jets = new SyntheticJets(3, 12, 7, [12, 6, 9], seed: 1);
        using var points = jets.PointsTensor(Cpu, DType.Float32).DetachFromScope();
        using var features = jets.FeaturesTensor(Cpu, DType.Float32).DetachFromScope();
        using var mask = jets.MaskTensor(Cpu, DType.Float32).DetachFromScope();
        using var labels = Tensor.FromArray<int>(Cpu, [0, 1, 1], new Shape(3));
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(7, 2) with { UseFusion = true });
        Variable Logits() => model.Forward(points, Variable.Constant(features), mask);
        AssertNoLeak(model, () => Fn.CrossEntropy(Logits(), labels), Logits);
    }

    [Test]
    public void ParticleTransformerStep()
    {
        var jets = new SyntheticJets(2, 8, 5, [8, 5], seed: 2);
        using var features = jets.FeaturesTensor(Cpu, DType.Float32).DetachFromScope();
        using var vectors = jets.VectorsTensor(Cpu, DType.Float32).DetachFromScope();
        using var mask = jets.MaskTensor(Cpu, DType.Float32).DetachFromScope();
        using var labels = Tensor.FromArray<int>(Cpu, [0, 1], new Shape(2));
        // Attention dropout on: the training step takes the composed attention path, eval the fused one.
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, new ParticleTransformerConfig(5, 2)
            { EmbedDims = [16, 16], PairEmbedDims = [8], NumHeads = 2, NumLayers = 1, NumClassLayers = 1, Trim = true });
        Variable Logits() => model.Forward(Variable.Constant(features), vectors, mask);
        AssertNoLeak(model, () => Fn.CrossEntropy(Logits(), labels), Logits);
    }

    [Test]
    public void PfnAndHeteroNetSteps()
    {
        var jets = new SyntheticJets(2, 8, 5, [8, 3], seed: 3);
        using var features = jets.FeaturesTensor(Cpu, DType.Float32).DetachFromScope();
        using var mask = jets.MaskTensor(Cpu, DType.Float32).DetachFromScope();
        using var labels = Tensor.FromArray<int>(Cpu, [0, 1], new Shape(2));
        using (var pfn = new ParticleFlowNetwork(Cpu, new ParticleFlowNetworkConfig(5, 2) { PhiSizes = [8], FSizes = [8] }))
        {
            Variable Logits() => pfn.Forward(Variable.Constant(features), mask);
            AssertNoLeak(pfn, () => Fn.CrossEntropy(Logits(), labels), Logits);
        }
        var config = new HeteroNetConfig { EmbedSize = 8, NumLayers = 2 };
        using var batch = HeteroGraphBatch.Create(Cpu, [HeteroNetTests.Event(3, 4, 1, config, 1), HeteroNetTests.Event(2, 5, 2, config, 3)], config);
        using var graphLabels = batch.LabelTensor(Cpu).DetachFromScope();
        using var hetero = new HeteroNet.HeteroNet(Cpu, config);
        AssertNoLeak(hetero, () => Fn.CrossEntropy(hetero.Forward(batch), graphLabels), () => hetero.Forward(batch));
    }
}
