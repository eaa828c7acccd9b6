using Hep.Models.HeteroNet;

namespace Hep.Models.Tests;

/// <summary>HeteroNet: parameter counts, the tutorial's shape trace, batching, invariances and float64 gradients.</summary>
public class HeteroNetTests
{
    private static IBackend Cpu => Backends.Cpu;

    // A complete directed graph without self-loops per node type (spec §8 recipe), Gaussian-like features.
    internal static HeteroEvent Event(int clusters, int trackers, int seed, HeteroNetConfig config, int label = 0)
    {
        var rng = new Random(seed);
        GraphPart Part(int n, int nodeDim, int edgeDim)
        {
            var src = new List<int>();
            var dst = new List<int>();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (i != j) { src.Add(i); dst.Add(j); }
            float R() => (float)(rng.NextDouble() * 2 - 1);
            return new GraphPart(n, Enumerable.Range(0, n * nodeDim).Select(_ => R()).ToArray(),
                Enumerable.Range(0, src.Count * edgeDim).Select(_ => R()).ToArray(), [.. src], [.. dst]);
        }
        return new HeteroEvent(Part(clusters, config.ClusterNodeDim, config.ClusterEdgeDim), Part(trackers, config.TrackerNodeDim, config.TrackerEdgeDim), label);
    }

    [TestCase(true, ExpectedResult = 248_305L)]
    [TestCase(false, ExpectedResult = 234_481L)]
    public long ParameterCount(bool keepPhiX)
    {
        using var model = new HeteroNet.HeteroNet(Cpu, new HeteroNetConfig { KeepUnusedPhiX = keepPhiX });
        return model.ParameterCount;
    }

    [Test]
    public void TutorialEventGivesOneRowOfFiveLogits()
    {
        var config = new HeteroNetConfig();
        var ev = Event(4, 10, 1, config);
        Assert.That((ev.Clusters.EdgeCount, ev.Trackers.EdgeCount), Is.EqualTo((12, 90)));
        using var scope = TensorScope.Begin();
        using var model = new HeteroNet.HeteroNet(Cpu, config);
        using var batch = HeteroGraphBatch.Create(Cpu, [ev], config);
        var logits = model.Forward(batch);
        Assert.That(logits.Shape, Is.EqualTo(new Shape(1, 5)));
        Assert.That(logits.Data.ToDoubleArray().All(double.IsFinite));
    }

    [Test]
    public void BatchedEvalEqualsEventByEvent()
    {
        var config = new HeteroNetConfig();
        var events = new[] { Event(4, 10, 2, config), Event(3, 6, 3, config), Event(6, 4, 4, config) };
        using var scope = TensorScope.Begin();
        using var model = new HeteroNet.HeteroNet(Cpu, config);
        model.Eval();
        using var batch = HeteroGraphBatch.Create(Cpu, events, config);
        var all = model.Forward(batch).Data.ToDoubleArray();
        for (int g = 0; g < events.Length; g++)
        {
            using var single = HeteroGraphBatch.Create(Cpu, [events[g]], config);
            TensorAssert.Close(all.Skip(5 * g).Take(5).ToArray(), model.Forward(single).Data.ToDoubleArray(), 1e-5, 1e-5, $"event {g}");
        }
    }

    [Test]
    public void RelabellingNodesAndReorderingEdgesLeavesEvalOutputsUnchanged()
    {
        var config = new HeteroNetConfig();
        var ev = Event(5, 7, 5, config);
        var rng = new Random(6);
        GraphPart Permute(GraphPart p, int nodeDim, int edgeDim)
        {
            var newOf = Enumerable.Range(0, p.NodeCount).OrderBy(_ => rng.Next()).ToArray();
            var nodes = new float[p.NodeFeatures.Length];
            for (int i = 0; i < p.NodeCount; i++) Array.Copy(p.NodeFeatures, i * nodeDim, nodes, newOf[i] * nodeDim, nodeDim);
            var edgeOrder = Enumerable.Range(0, p.EdgeCount).OrderBy(_ => rng.Next()).ToArray();
            var edges = new float[p.EdgeFeatures.Length];
            var src = new int[p.EdgeCount];
            var dst = new int[p.EdgeCount];
            for (int k = 0; k < p.EdgeCount; k++)
            {
                int from = edgeOrder[k];
                Array.Copy(p.EdgeFeatures, from * edgeDim, edges, k * edgeDim, edgeDim);
                src[k] = newOf[p.Source[from]];
                dst[k] = newOf[p.Destination[from]];
            }
            return new GraphPart(p.NodeCount, nodes, edges, src, dst);
        }
        var permuted = new HeteroEvent(Permute(ev.Clusters, 6, 9), Permute(ev.Trackers, 5, 5));
        using var scope = TensorScope.Begin();
        using var model = new HeteroNet.HeteroNet(Cpu, config);
        model.Eval();
        using var a = HeteroGraphBatch.Create(Cpu, [ev], config);
        using var b = HeteroGraphBatch.Create(Cpu, [permuted], config);
        TensorAssert.Close(model.Forward(b).Data, model.Forward(a).Data, 1e-5, 1e-5, "permuted graph");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Float64GradientsInTrainingMode(bool bySource)
    {
        var config = new HeteroNetConfig { EmbedSize = 4, NumLayers = 2, NumClasses = 3, DecoderDropout = 0, AggregateBySource = bySource };
        using var scope = TensorScope.Begin();
        using var model = new HeteroNet.HeteroNet(Cpu, config, seed: 3, dtype: DType.Float64);
        model.Train();
        using var batch = HeteroGraphBatch.Create(Cpu, [Event(3, 4, 7, config, 1), Event(2, 3, 8, config, 2)], config, DType.Float64);
        var labels = batch.LabelTensor(Cpu);
        Support.ParameterGradCheck.AssertPasses(model, () => Fn.CrossEntropy(model.Forward(batch), labels), maxPerTensor: 10);
    }

    [Test]
    public void DecoderDropoutIsConfigurable()
    {
        var config = new HeteroNetConfig { DecoderDropout = 0.9 };
        var events = Enumerable.Range(0, 4).Select(i => Event(3, 4, 20 + i, config)).ToArray();
        using var scope = TensorScope.Begin();
        using var model = new HeteroNet.HeteroNet(Cpu, config);
        using var batch = HeteroGraphBatch.Create(Cpu, events, config);
        model.Eval();
        var eval1 = model.Forward(batch).Data.ToDoubleArray();
        var eval2 = model.Forward(batch).Data.ToDoubleArray();
        Assert.That(eval2, Is.EqualTo(eval1), "eval mode is deterministic");
        model.Train();
        var train = model.Forward(batch).Data.ToDoubleArray();
        Assert.That(train, Is.Not.EqualTo(eval1), "dropout (p = 0.9) and batch statistics act in training");
    }
}
