using Hep.Autograd;
using Hep.Engine;
using Tensor = Hep.Engine.Tensor;
using Hep.Kernels.Cpu;
using Hep.Models.Nn;
using Hep.Models.Optim;
using Hep.Models.ParticleNet;
using Hep.Models.ParticleTransformer;
using TorchSharp;

namespace Hep.Benchmarks.Models;

/// <summary>The two benchmarked models at their paper configurations (7 "kin" features → 2 classes).</summary>
public enum ModelKind
{
    ParticleNet,
    ParticleTransformer,
}

/// <summary>
/// One side of the comparison (the engine or libtorch) holding a model, one batch of jets and an SGD
/// optimiser: <see cref="Infer"/> is an eval-mode forward without gradients, <see cref="TrainStep"/> one
/// training step (train-mode forward, cross-entropy, zero_grad, backward, SGD momentum update).
/// </summary>
internal interface IModelSide : IDisposable
{
    long ParameterCount { get; }
    void Infer();
    void TrainStep();

    /// <summary>Eval-mode logits (B·classes), for the agreement check.</summary>
    float[] Logits();
}

/// <summary>Builds both sides and checks them: parameter counts against the spec, names and shapes against each other.</summary>
internal static class ModelSides
{
    public const int Batch = 128;
    public const double LearningRate = 1e-3, Momentum = 0.9;

    /// <summary>Trainable parameters of the 7 → 2 models (spec §1.5 and §2.7).</summary>
    public static long SpecParameterCount(ModelKind kind) => kind == ModelKind.ParticleNet ? 366_160 : 2_141_134;

    public static EngineSide Engine(ModelKind kind, BenchmarkJets jets)
    {
        var side = new EngineSide(kind, jets);
        RequireCount($"engine {kind}", side.ParameterCount, SpecParameterCount(kind));
        return side;
    }

    public static TorchSide Torch(ModelKind kind, BenchmarkJets jets, bool fusedAttention)
    {
        var side = new TorchSide(kind, jets, fusedAttention);
        RequireCount($"libtorch {kind}", side.ParameterCount, SpecParameterCount(kind));
        return side;
    }

    /// <summary>
    /// Both sides with the engine's weights and buffers copied into the libtorch model by name (every
    /// engine parameter must exist there with the same number of elements, and vice versa), then checked
    /// to produce the same eval-mode logits.
    /// </summary>
    public static (EngineSide Engine, TorchSide Torch) Matched(ModelKind kind, BenchmarkJets jets, bool fusedAttention)
    {
        var engine = Engine(kind, jets);
        var torchSide = Torch(kind, jets, fusedAttention);
        torchSide.CopyFrom(engine.Model);
        var ours = engine.Logits();
        var theirs = torchSide.Logits();
        double worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        Console.WriteLine($"// {kind}: engine vs libtorch eval logits, largest difference {worst:E2} over {ours.Length} values");
        HotKernels.Torch.AssertClose($"{kind} eval logits", ours, theirs, 2e-3, 2e-3);
        return (engine, torchSide);
    }

    private static void RequireCount(string what, long actual, long expected)
    {
        if (actual != expected) throw new InvalidOperationException($"{what}: {actual:N0} trainable parameters, the spec says {expected:N0}");
    }
}

/// <summary>The engine's model on the CPU backend (the same classes the CLI trains).</summary>
internal sealed class EngineSide : IModelSide
{
    private readonly ModelKind _kind;
    private readonly Tensor _points, _features, _vectors, _mask, _labels;
    private readonly Sgd _optimizer;

    public EngineSide(ModelKind kind, BenchmarkJets jets)
    {
        _kind = kind;
        var cpu = CpuBackend.Shared;
        _points = jets.Engine(cpu, jets.Points, 2).DetachFromScope();
        _features = jets.Engine(cpu, jets.FeatureValues, BenchmarkJets.Features).DetachFromScope();
        _vectors = jets.Engine(cpu, jets.Vectors, 4).DetachFromScope();
        _mask = jets.Engine(cpu, jets.Mask, 1).DetachFromScope();
        _labels = jets.EngineLabels(cpu).DetachFromScope();
        Model = kind == ModelKind.ParticleNet
            ? new ParticleNet(cpu, ParticleNetConfig.Paper(BenchmarkJets.Features, 2))
            // Trimming off: both sides run the same N = 128 (the trimmer would shorten the sequence by a random amount).
            : new ParticleTransformer(cpu, new ParticleTransformerConfig(BenchmarkJets.Features, 2) { Trim = false });
        _optimizer = new Sgd(Model.Parameters(), ModelSides.LearningRate, ModelSides.Momentum);
    }

    public Module Model { get; }
    public long ParameterCount => Model.ParameterCount;

    private Variable Forward() => _kind == ModelKind.ParticleNet
        ? ((ParticleNet)Model).Forward(_points, Variable.Constant(_features), _mask)
        : ((ParticleTransformer)Model).Forward(Variable.Constant(_features), _vectors, _mask);

    public void Infer()
    {
        if (Model.Training) Model.Eval();
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        Forward();
    }

    public void TrainStep()
    {
        if (!Model.Training) Model.Train();
        using var scope = TensorScope.Begin();
        using var tape = Tape.Begin();
        var loss = Fn.CrossEntropy(Forward(), _labels);
        _optimizer.ZeroGrad();
        tape.Backward(loss);
        _optimizer.Step();
    }

    public float[] Logits()
    {
        Model.Eval();
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        return Forward().Data.ToArray<float>();
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
        foreach (var t in new[] { _points, _features, _vectors, _mask, _labels }) t.Dispose();
    }
}

/// <summary>The TorchSharp model (libtorch CPU, intra-op pool on every core).</summary>
internal sealed class TorchSide : IModelSide
{
    private readonly ModelKind _kind;
    private readonly TorchParticleNet? _particleNet;
    private readonly TorchParticleTransformer? _transformer;
    private readonly torch.Tensor _points, _features, _vectors, _mask, _labels;
    private readonly torch.optim.Optimizer _optimizer;

    public TorchSide(ModelKind kind, BenchmarkJets jets, bool fusedAttention)
    {
        _kind = kind;
        HotKernels.Torch.UseAllCores();
        _points = jets.Torch(jets.Points, 2);
        _features = jets.Torch(jets.FeatureValues, BenchmarkJets.Features);
        _vectors = jets.Torch(jets.Vectors, 4);
        _mask = jets.Torch(jets.Mask, 1);
        _labels = jets.TorchLabels();
        if (kind == ModelKind.ParticleNet)
            _particleNet = new TorchParticleNet(BenchmarkJets.Features, 2, [(16, [64, 64, 64]), (16, [128, 128, 128]), (16, [256, 256, 256])], [(256, 0.1)]);
        else
            _transformer = new TorchParticleTransformer(BenchmarkJets.Features, 2, fusedAttention);
        _optimizer = torch.optim.SGD(Model.parameters(), ModelSides.LearningRate, ModelSides.Momentum);
    }

    private torch.nn.Module Model => (torch.nn.Module?)_particleNet ?? _transformer!;

    public long ParameterCount => Model.parameters().Sum(p => p.numel());

    private torch.Tensor Forward() => _kind == ModelKind.ParticleNet
        ? _particleNet!.Forward(_points, _features, _mask)
        : _transformer!.Forward(_features, _vectors, _mask);

    public void Infer()
    {
        if (Model.training) Model.eval();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Forward();
    }

    public void TrainStep()
    {
        if (!Model.training) Model.train();
        using var scope = torch.NewDisposeScope();
        var loss = torch.nn.functional.cross_entropy(Forward(), _labels);
        _optimizer.zero_grad();
        loss.backward();
        _optimizer.step();
    }

    public float[] Logits()
    {
        Model.eval();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return HotKernels.Torch.Floats(Forward());
    }

    /// <summary>Copies the engine model's parameters and buffers in by weaver state-dict name (element counts must match).</summary>
    public void CopyFrom(Module engine)
    {
        var parameters = Model.named_parameters().ToDictionary(p => p.name, p => (torch.Tensor)p.parameter);
        var buffers = Model.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        var ours = engine.NamedParameters().Select(p => (p.Name, p.Parameter.Data)).ToList();
        var missing = parameters.Keys.Except(ours.Select(p => p.Name)).ToList();
        if (missing.Count > 0) throw new InvalidOperationException($"{_kind}: libtorch parameters absent from the engine model: {string.Join(", ", missing)}");
        using var noGrad = torch.no_grad();
        foreach (var (name, data) in ours.Concat(engine.NamedBuffers().Select(b => (b.Name, b.Buffer))))
        {
            if (!parameters.TryGetValue(name, out var target) && !buffers.TryGetValue(name, out target))
                throw new InvalidOperationException($"{_kind}: engine tensor {name} has no libtorch counterpart");
            if (target.numel() != data.Numel) throw new InvalidOperationException($"{_kind}: {name} has {data.Numel} elements, libtorch {target.numel()}");
            using var source = torch.tensor(data.ToArray<float>(), target.shape);
            target.copy_(source);
        }
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
        foreach (var t in new[] { _points, _features, _vectors, _mask, _labels }) t.Dispose();
    }
}
