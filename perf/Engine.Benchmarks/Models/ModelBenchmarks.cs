using BenchmarkDotNet.Attributes;

namespace Hep.Benchmarks.Models;

/// <summary>
/// Full-model inference (eval, no gradients) and one training step (train-mode forward, cross-entropy,
/// backward, SGD momentum update) at B = 128 real TopLandscape jets, N = 128 slots, for the engine (CPU
/// backend) and the same model written in TorchSharp (libtorch, see TorchParticleNet /
/// TorchParticleTransformer) in one process. Setup checks both parameter counts against the spec, copies
/// the engine's weights into libtorch by name and requires the same eval logits. libtorch's ParT uses
/// scaled_dot_product_attention (its fastest form here; the explicit composition is in the memory harness).
/// </summary>
public abstract class ModelBenchmarks
{
    private EngineSide _engine = null!;
    private TorchSide _torch = null!;

    protected abstract ModelKind Kind { get; }

    [GlobalSetup]
    public void Setup()
    {
        var jets = BenchmarkJets.TopLandscape(ModelSides.Batch);
        Console.WriteLine($"// {Kind}: {jets.Jets} jets, {jets.Slots} slots, real particles per jet {jets.Counts.Min()}–{jets.Counts.Max()} (mean {jets.Counts.Average():F1})");
        (_engine, _torch) = ModelSides.Matched(Kind, jets, fusedAttention: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        _torch.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Benchmark(Description = "engine: inference")]
    [BenchmarkCategory("Inference")]
    public void EngineInference() => _engine.Infer();

    [Benchmark(Description = "engine: training step")]
    [BenchmarkCategory("Training step")]
    public void EngineTrainingStep() => _engine.TrainStep();

    [Benchmark(Baseline = true, Description = "libtorch: inference")]
    [BenchmarkCategory("Inference")]
    public void LibtorchInference() => _torch.Infer();

    [Benchmark(Baseline = true, Description = "libtorch: training step")]
    [BenchmarkCategory("Training step")]
    public void LibtorchTrainingStep() => _torch.TrainStep();
}

/// <summary>ParticleNet (k = 16, (64, 128, 256)×3, fc 256, 7 → 2; 366,160 parameters).</summary>
[Config(typeof(ModelBenchmarkConfig))]
[MemoryDiagnoser]
public class ParticleNetBenchmarks : ModelBenchmarks
{
    protected override ModelKind Kind => ModelKind.ParticleNet;
}

/// <summary>Particle Transformer (weaver defaults with pair embedding, 7 → 2; 2,141,134 parameters).</summary>
[Config(typeof(ModelBenchmarkConfig))]
[MemoryDiagnoser]
public class ParticleTransformerBenchmarks : ModelBenchmarks
{
    protected override ModelKind Kind => ModelKind.ParticleTransformer;
}
