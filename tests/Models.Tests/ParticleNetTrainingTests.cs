using System.Diagnostics;
using Hep.Models.Optim;
using Hep.Models.ParticleNet;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>
/// ParticleNet-Lite trained on the real TopLandscape subset (kin features rebuilt from the 4-vectors):
/// jets 0–1499 train, 1500–1999 are held out; the held-out top-vs-QCD AUC must exceed 0.9.
/// </summary>
[NonParallelizable]
public class ParticleNetTrainingTests
{
    private const int TrainJets = 1500, Slots = 64, Batch = 32, Steps = 300;

    [Test]
    public void LiteReachesHeldOutAucAboveNinety()
    {
        var cpu = Backends.Cpu;
        var data = JetDataset.TopLandscape();
        using var model = new ParticleNet.ParticleNet(cpu, ParticleNetConfig.Lite(KinematicFeatures.Count, 2), seed: 7);
        using var opt = new AdamW(model.Parameters(), 2e-3, weightDecay: 1e-4);
        var rng = new Random(3);
        var order = Enumerable.Range(0, TrainJets).OrderBy(_ => rng.Next()).ToArray();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        for (int step = 0; step < Steps; step++)
        {
            var jets = Enumerable.Range(0, Batch).Select(i => order[(step * Batch + i) % TrainJets]).ToArray();
            opt.LearningRate = step < 0.7 * Steps ? 2e-3 : 2e-4;
            using var scope = TensorScope.Begin();
            using var tape = Tape.Begin();
            var logits = model.Forward(Cut(data.PointsOf(cpu, jets)), Variable.Constant(Cut(data.FeaturesOf(cpu, jets))), Cut(data.MaskOf(cpu, jets)));
            var loss = Fn.CrossEntropy(logits, data.LabelsOf(cpu, jets));
            lossSum += loss.Data.Item();
            opt.ZeroGrad();
            tape.Backward(loss);
            opt.Step();
            if ((step + 1) % 50 == 0)
            {
                TestContext.Out.WriteLine($"step {step + 1}: mean loss {lossSum / 50:F4} ({clock.Elapsed.TotalSeconds:F0} s)");
                lossSum = 0;
            }
        }
        model.Eval();
        var scores = new List<double>();
        var isTop = new List<bool>();
        for (int start = TrainJets; start < data.Jets; start += 100)
        {
            var jets = Enumerable.Range(start, Math.Min(100, data.Jets - start)).ToArray();
            using var scope = TensorScope.Begin();
            var logits = model.Forward(Cut(data.PointsOf(cpu, jets)), Variable.Constant(Cut(data.FeaturesOf(cpu, jets))), Cut(data.MaskOf(cpu, jets)));
            var p = Fn.Softmax(logits, -1).Data.ToArray<float>();
            for (int i = 0; i < jets.Length; i++)
            {
                scores.Add(p[2 * i]);
                isTop.Add(data.Labels[jets[i]] == 0);
            }
        }
        double auc = RocAuc.Compute(scores, isTop);
        TestContext.Out.WriteLine($"PN-Lite, {Steps} steps × {Batch} jets, {Slots} slots: held-out AUC {auc:F4} on {scores.Count} jets, {clock.Elapsed.TotalSeconds:F0} s");
        Assert.That(auc, Is.GreaterThan(0.9));
    }

    // The first 64 particle slots (pT-ordered; a few of the largest jets lose soft particles).
    private static Tensor Cut(Tensor x) => TensorOps.SliceCopy(x, 2, 0, Slots);
}
