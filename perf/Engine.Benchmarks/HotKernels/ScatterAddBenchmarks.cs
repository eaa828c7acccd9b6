using BenchmarkDotNet.Attributes;
using Hep.Engine;
using Hep.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks.HotKernels;

/// <summary>
/// Message aggregation at the heterogeneous GNN's size: E = 200,000 edges of F = 64 features into
/// V = 20,000 nodes (mean in-degree 10), forward (scatter-add) + backward (gather of the node
/// gradient). libtorch: zeros(V, F).index_add_(0, index, src) and grad.index_select(0, index).
/// Engine: sorted/CSR (deterministic) and unordered (per-core partial buffers) variants, and the planned
/// variant: the index's sorted <see cref="SegmentPlan"/> is built once in the setup (as HeteroNet builds
/// one per edge type per batch and reuses it in all six layers) and the timed call only sums; the
/// "plan built in the call" rows include the plan's construction (parallel counting sort) every time.
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public class ScatterAddBenchmarks
{
    private const int E = 200_000, F = 64, V = 20_000;
    private Hep.Engine.Tensor _src = null!, _idx = null!, _grad = null!;
    private SegmentPlan _plan = null!;
    private torch.Tensor _tSrc = null!, _tIdx = null!, _tGrad = null!;

    [GlobalSetup]
    public void Setup()
    {
        Torch.UseAllCores();
        var backend = CpuBackend.Shared;
        _src = Hep.Engine.Tensor.Zeros(backend, new Shape(E, F));
        _grad = Hep.Engine.Tensor.Zeros(backend, new Shape(V, F));
        backend.Random.Uniform(1, -1, 1, _src);
        backend.Random.Uniform(2, -1, 1, _grad);
        var rng = new Random(3);
        var idx = new int[E];
        for (int i = 0; i < E; i++) idx[i] = rng.Next(V);
        _idx = Hep.Engine.Tensor.FromArray<int>(backend, idx, new Shape(E));
        _tSrc = Torch.From(_src);
        _tIdx = Torch.FromInts(_idx);
        _tGrad = Torch.From(_grad);
        _plan = TensorOps.BuildSegmentPlan(_idx, V);
        using var planned = TensorOps.ScatterAdd(_src, _plan);
        using var ours = TensorOps.ScatterAdd(_src, _idx, V, deterministic: true);
        using var scope = torch.NewDisposeScope();
        Torch.AssertClose("ScatterAdd", ours.ToArray<float>(), Torch.Floats(torch.zeros(V, F).index_add_(0, _tIdx, _tSrc, 1.0)), 1e-5, 1e-5);
        if (!planned.ToArray<float>().AsSpan().SequenceEqual(ours.ToArray<float>())) throw new InvalidOperationException("planned ScatterAdd differs from the sorted one");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plan.Dispose();
        _src.Dispose();
        _idx.Dispose();
        _grad.Dispose();
        _tSrc.Dispose();
        _tIdx.Dispose();
        _tGrad.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch: index_add_ + index_select")]
    [BenchmarkCategory("Forward+backward")]
    public long LibtorchForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        var y = torch.zeros(V, F).index_add_(0, _tIdx, _tSrc, 1.0);
        var gs = _tGrad.index_select(0, _tIdx);
        return y.shape[0] + gs.shape[0];
    }

    [Benchmark(Description = "engine: sorted (deterministic)")]
    [BenchmarkCategory("Forward+backward")]
    public int EngineSorted()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: true);
        using var gs = TensorOps.SegmentGather(_grad, _idx, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Description = "engine: planned (plan prebuilt in setup)")]
    [BenchmarkCategory("Forward+backward")]
    public int EnginePlanned()
    {
        using var y = TensorOps.ScatterAdd(_src, _plan);
        using var gs = TensorOps.SegmentGather(_grad, _plan.Index, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Description = "engine: plan built in the call + planned")]
    [BenchmarkCategory("Forward+backward")]
    public int EnginePlanBuiltInCall()
    {
        using var plan = TensorOps.BuildSegmentPlan(_idx, V);
        using var y = TensorOps.ScatterAdd(_src, plan);
        using var gs = TensorOps.SegmentGather(_grad, plan.Index, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Description = "engine: unordered partial buffers")]
    [BenchmarkCategory("Forward+backward")]
    public int EngineUnordered()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: false);
        using var gs = TensorOps.SegmentGather(_grad, _idx, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Baseline = true, Description = "libtorch: index_add_")]
    [BenchmarkCategory("Forward")]
    public long LibtorchForward()
    {
        using var scope = torch.NewDisposeScope();
        return torch.zeros(V, F).index_add_(0, _tIdx, _tSrc, 1.0).shape[0];
    }

    [Benchmark(Description = "engine: sorted scatter-add")]
    [BenchmarkCategory("Forward")]
    public int EngineForward()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: true);
        return y.Shape[0];
    }

    [Benchmark(Description = "engine: planned scatter-add (plan prebuilt)")]
    [BenchmarkCategory("Forward")]
    public int EngineForwardPlanned()
    {
        using var y = TensorOps.ScatterAdd(_src, _plan);
        return y.Shape[0];
    }

    [Benchmark(Description = "engine: plan build only")]
    [BenchmarkCategory("Forward")]
    public int EnginePlanBuild()
    {
        using var plan = TensorOps.BuildSegmentPlan(_idx, V);
        return plan.Segments;
    }

    [Benchmark(Description = "engine: unordered scatter-add")]
    [BenchmarkCategory("Forward")]
    public int EngineForwardUnordered()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: false);
        return y.Shape[0];
    }

    [Benchmark(Baseline = true, Description = "libtorch: index_select")]
    [BenchmarkCategory("Backward")]
    public long LibtorchBackward()
    {
        using var scope = torch.NewDisposeScope();
        return _tGrad.index_select(0, _tIdx).shape[0];
    }

    [Benchmark(Description = "engine: segment gather")]
    [BenchmarkCategory("Backward")]
    public int EngineBackward()
    {
        using var gs = TensorOps.SegmentGather(_grad, _idx, null);
        return gs.Shape[0];
    }
}
