using BenchmarkDotNet.Attributes;
using Hep.Autograd;
using Hep.Engine;
using Hep.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks.HotKernels;

/// <summary>
/// EdgeConv's first layer at ParticleNet's sizes (B = 128, N = 128, K = 16, C = 64 in, O = 64 out).
/// "Projection": W·[x_i, x_j − x_i]; libtorch runs weaver's get_graph_feature_v1 (index arithmetic,
/// gather, repeat, cat) and a bias-free 1×1 Conv2d; the engine runs the fused form (per-node GEMMs
/// (W_a − W_b)·x and W_b·x, then one gather-add). "Edge features": the (B, 2C, N, K) tensor alone.
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public class EdgeConvBenchmarks
{
    private const int B = 128, N = 128, K = 16, C = 64, O = 64;
    private Hep.Engine.Tensor _x = null!, _w = null!, _idx = null!;
    private Variable _vx = null!, _vw = null!;
    private torch.Tensor _tx = null!, _tw = null!, _tIdx = null!;

    [GlobalSetup]
    public void Setup()
    {
        Torch.UseAllCores();
        var backend = CpuBackend.Shared;
        _x = Hep.Engine.Tensor.Zeros(backend, new Shape(B, C, N));
        _w = Hep.Engine.Tensor.Zeros(backend, new Shape(O, 2 * C));
        backend.Random.Uniform(1, -1, 1, _x);
        backend.Random.Uniform(2, -0.2, 0.2, _w);
        var rng = new Random(3);
        var idx = new int[B * N * K];
        for (int i = 0; i < idx.Length; i++) idx[i] = rng.Next(N);
        _idx = Hep.Engine.Tensor.FromArray<int>(backend, idx, new Shape(B, N, K));
        _vx = Variable.Constant(_x);
        _vw = Variable.Constant(_w);
        _tx = Torch.From(_x);
        _tw = Torch.From(_w).view(O, 2 * C, 1, 1);
        _tIdx = Torch.FromInts(_idx);
        using var ours = Fn.EdgeConvProject(_vx, _vw, _idx);
        using var scope = torch.NewDisposeScope();
        Torch.AssertClose("EdgeConvProject", ours.Data.ToArray<float>(), Torch.Floats(TorchProjection()), 1e-4, 1e-3);
        using var feats = TensorOps.EdgeFeatures(_x, _idx);
        Torch.AssertClose("EdgeFeatures", feats.ToArray<float>(), Torch.Floats(TorchGraphFeature()), 1e-6, 1e-6);
    }

    // weaver's get_graph_feature_v1.
    private torch.Tensor TorchGraphFeature()
    {
        var idxBase = torch.arange(0, B, dtype: ScalarType.Int64).view(-1, 1, 1) * N;
        var flat = (_tIdx + idxBase).view(-1);
        var fts = _tx.transpose(2, 1).reshape(-1, C);
        fts = fts.index_select(0, flat).view(B, N, K, C).permute(0, 3, 1, 2).contiguous();
        var xr = _tx.view(B, C, N, 1).repeat(1, 1, 1, K);
        return torch.cat([xr, fts - xr], dim: 1);
    }

    private torch.Tensor TorchProjection() => torch.nn.functional.conv2d(TorchGraphFeature(), _tw);

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _w.Dispose();
        _idx.Dispose();
        _tx.Dispose();
        _tw.Dispose();
        _tIdx.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch: get_graph_feature + conv1x1")]
    [BenchmarkCategory("Projection")]
    public long LibtorchProjection()
    {
        using var scope = torch.NewDisposeScope();
        return TorchProjection().shape[1];
    }

    [Benchmark(Description = "engine: fused EdgeConvProject")]
    [BenchmarkCategory("Projection")]
    public int EngineProjection()
    {
        using var y = Fn.EdgeConvProject(_vx, _vw, _idx);
        return y.Shape[1];
    }

    [Benchmark(Baseline = true, Description = "libtorch: get_graph_feature")]
    [BenchmarkCategory("EdgeFeatures")]
    public long LibtorchEdgeFeatures()
    {
        using var scope = torch.NewDisposeScope();
        return TorchGraphFeature().shape[1];
    }

    [Benchmark(Description = "engine: EdgeFeatures")]
    [BenchmarkCategory("EdgeFeatures")]
    public int EngineEdgeFeatures()
    {
        using var y = TensorOps.EdgeFeatures(_x, _idx);
        return y.Shape[1];
    }
}
