using Hep.Models.Checkpoints;
using Hep.Models.ParticleNet;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>
/// ParticleNet's eval pipeline (EdgeConvBlock in eval mode without a tape: BN + ReLU in the GEMM
/// epilogue, jets in per-core chunks, columns up to each jet's last real particle) against the same
/// model's training-form ops in eval mode (forced by recording a tape): equal within float rounding at
/// every real slot, for jets with few real particles (padded neighbours), interleaved padding, a batch that
/// does not divide into chunks, non-trivial BatchNorm running statistics, on the CPU and ILGPU backends.
/// </summary>
[NonParallelizable]
public class ParticleNetEvalPipelineTests
{
    private static readonly ParticleNetConfig Config =
        new(7, 3, [new EdgeConvSpec(4, [8, 8, 8]), new EdgeConvSpec(3, [12, 12, 12]), new EdgeConvSpec(3, [10])], [new FcSpec(9, 0)], UseFusion: true);

    // Jets of 24 slots with 24, 2, 13, 4 and 9 real particles; in the last two the real particles are
    // spread over the slots (padding interleaved, last slot real).
    private static (Tensor Points, Tensor Features, Tensor Mask) Jets(IBackend backend)
    {
        var jets = new SyntheticJets(5, 24, 7, [24, 2, 13, 4, 9], seed: 21);
        var points = jets.PointsTensor(Cpu, DType.Float32).ToDoubleArray();
        var features = jets.FeaturesTensor(Cpu, DType.Float32).ToDoubleArray();
        var mask = jets.MaskTensor(Cpu, DType.Float32).ToDoubleArray();
        int slots = 24;
        foreach (int b in new[] { 3, 4 })
        {
            int count = b == 3 ? 4 : 9;
            for (int i = 0; i < count; i++)
            {
                int to = slots - 1 - 2 * i; // real particle i moves to slot 23, 21, 19, …
                if (to <= i) break;
                Swap(points, b, 2, slots, i, to);
                Swap(features, b, 7, slots, i, to);
                Swap(mask, b, 1, slots, i, to);
            }
        }
        return (Make(backend, points, new Shape(5, 2, slots)), Make(backend, features, new Shape(5, 7, slots)), Make(backend, mask, new Shape(5, 1, slots)));
    }

    private static void Swap(double[] data, int b, int channels, int slots, int i, int j)
    {
        for (int c = 0; c < channels; c++)
        {
            int row = (b * channels + c) * slots;
            (data[row + i], data[row + j]) = (data[row + j], data[row + i]);
        }
    }

    private static Tensor Make(IBackend backend, double[] data, Shape shape) => Operands.FromDoubles(backend, data, shape, DType.Float32);

    private static IBackend Cpu => Backends.Cpu;

    // Running statistics and affine parameters away from the (0, 1) defaults, so the folded scale/shift matter.
    private static void RandomizeBatchNorms(ParticleNet.ParticleNet model)
    {
        int seed = 100;
        foreach (var (name, buffer) in model.NamedBuffers())
        {
            if (!name.EndsWith("running_mean", StringComparison.Ordinal) && !name.EndsWith("running_var", StringComparison.Ordinal)) continue;
            bool variance = name.EndsWith("running_var", StringComparison.Ordinal);
            using var values = Rand.Tensor(buffer.Backend, seed++, buffer.Shape, low: variance ? 0.3 : -0.5, high: variance ? 2.0 : 0.5);
            TensorOps.CopyInto(values, buffer);
        }
        foreach (var (name, p) in model.NamedParameters())
        {
            if (!name.Contains("bn", StringComparison.Ordinal) && !name.StartsWith("fusion_block.1", StringComparison.Ordinal)) continue;
            using var values = Rand.Tensor(p.Data.Backend, seed++, p.Data.Shape, low: name.EndsWith("weight", StringComparison.Ordinal) ? 0.5 : -0.3,
                high: name.EndsWith("weight", StringComparison.Ordinal) ? 1.5 : 0.3);
            TensorOps.CopyInto(values, p.Data);
        }
    }

    private static (double[] Pipeline, double[] Composed) Run(ParticleNet.ParticleNet model, IBackend backend)
    {
        var (points, features, mask) = Jets(backend);
        using (points)
        using (features)
        using (mask)
        {
            using var scope = TensorScope.Begin();
            model.Eval();
            var pipeline = model.Forward(points, Variable.Constant(features), mask).Data.ToDoubleArray();
            using var tape = Tape.Begin(); // a recording tape keeps the training-form (differentiable) ops
            var composed = model.Forward(points, Variable.Constant(features), mask).Data.ToDoubleArray();
            return (pipeline, composed);
        }
    }

    [Test]
    public void CpuPipelineEqualsTrainingFormOps()
    {
        using var model = new ParticleNet.ParticleNet(Cpu, Config, seed: 5);
        RandomizeBatchNorms(model);
        var (pipeline, composed) = Run(model, Cpu);
        Assert.That(pipeline.Distinct().Count(), Is.GreaterThan(5), "logits are not degenerate");
        TensorAssert.Close(pipeline, composed, 2e-6, 2e-5, "eval pipeline vs composed");
    }

    [Test]
    public void IlgpuPipelineEqualsTrainingFormOpsAndTheCpu()
    {
        using var model = new ParticleNet.ParticleNet(Cpu, Config, seed: 5);
        RandomizeBatchNorms(model);
        using var other = new ParticleNet.ParticleNet(Backends.IlgpuCpu, Config, seed: 5);
        StateDictLoader.Load(other, StateDictLoader.Export(model));
        var (cpu, _) = Run(model, Cpu);
        var (pipeline, composed) = Run(other, Backends.IlgpuCpu);
        TensorAssert.Close(pipeline, composed, 2e-6, 2e-5, "ILGPU eval pipeline vs composed");
        TensorAssert.Close(pipeline, cpu, 1e-5, 1e-4, "ILGPU vs CPU eval");
    }

    // The block itself: without the masked-output promise every slot matches; with it, every real slot.
    [Test]
    public void BlockOutputsMatchAtEverySlotOrEveryRealSlot()
    {
        var (points, features, mask) = Jets(Cpu);
        using (points)
        using (features)
        using (mask)
        {
            using var scope = TensorScope.Begin();
            using var block = new EdgeConvBlock(Cpu, 4, 7, [8, 8, 8], seed: 9);
            foreach (var (name, buffer) in block.NamedBuffers())
            {
                using var values = Rand.Tensor(Cpu, name.Length * 7 + 1, buffer.Shape, low: name.EndsWith("var", StringComparison.Ordinal) ? 0.3 : -0.5, high: 1.5);
                TensorOps.CopyInto(values, buffer);
            }
            block.Eval();
            using var coordinates = TensorOps.Mul(points, mask);
            var full = block.Forward(coordinates, Variable.Constant(features), mask).Data.ToDoubleArray();
            var masked = block.Forward(coordinates, Variable.Constant(features), mask, paddedOutputsMasked: true).Data.ToDoubleArray();
            double[] composed;
            using (var tape = Tape.Begin()) composed = block.Forward(coordinates, Variable.Constant(features), mask).Data.ToDoubleArray();
            TensorAssert.Close(full, composed, 2e-6, 2e-5, "every slot");
            var m = mask.ToDoubleArray();
            int slots = 24, channels = 8;
            var realOnly = Enumerable.Range(0, masked.Length).Where(i => m[i / (channels * slots) * slots + i % slots] != 0).ToArray();
            Assert.That(realOnly.Length, Is.EqualTo(channels * (24 + 2 + 13 + 4 + 9)));
            TensorAssert.Close(realOnly.Select(i => masked[i]).ToArray(), realOnly.Select(i => composed[i]).ToArray(), 2e-6, 2e-5, "real slots");
            Assert.That(masked.All(double.IsFinite), "padded slots stay finite");

            // Given ends (ParticleNet shares one set per forward) replace the mask's: ends at the last slot
            // skip nothing, so every slot equals the unskipped output, where the mask's ends differ.
            using var allReal = Tensor.Full(Cpu, mask.Shape, 1.0);
            var unskipped = block.Forward(coordinates, Variable.Constant(features), mask, paddedOutputsMasked: true,
                realEnds: new RealParticleEnds(allReal)).Data.ToDoubleArray();
            Assert.That(unskipped, Is.EqualTo(full), "given ends used instead of the mask's");
            Assert.That(masked, Is.Not.EqualTo(full), "the mask's ends skip padded columns");
        }
    }

    [Test]
    public void RealParticleEndsAreEachJetsLastRealSlotReadOnce()
    {
        var (points, features, mask) = Jets(Cpu);
        using (points)
        using (features)
        using (mask)
        {
            var ends = new RealParticleEnds(mask);
            var values = ends.Values;
            Assert.That(values, Is.EqualTo(new[] { 24, 2, 13, 24, 24 }), "interleaved jets end at their last slot");
            Assert.That(ends.Values, Is.SameAs(values), "read back once, then shared");
        }
        using var hand = Tensor.FromArray<float>(Cpu, [1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1], new Shape(3, 1, 4));
        Assert.That(RealParticleEnds.Compute(hand), Is.EqualTo(new[] { 3, 0, 4 }), "gap, empty jet, full jet");
        using var flat = Tensor.Zeros(Cpu, new Shape(3, 4));
        Assert.Throws<ArgumentException>(() => RealParticleEnds.Compute(flat));
    }
}
