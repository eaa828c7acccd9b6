using BenchmarkDotNet.Attributes;
using Hep.Autograd;
using Hep.Engine;
using Hep.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks.HotKernels;

/// <summary>
/// Attention at ParT's sizes (B = 128 jets, H = 8 heads, D = 16, N = 128 particles, jets padded to
/// 16…128 real particles). "pair-bias": particle attention with the pair-interaction bias U
/// (B, H, N, N) and the key padding mask; "class": one class token attending to N + 1 keys, no bias.
/// libtorch: scaled_dot_product_attention with attn_mask = U + mask, and the explicit composition
/// matmul → scale → + U + mask → softmax → matmul; forward, and forward + backward through autograd
/// (gradients for q, k, v and U). Engine: Fn.Attention (flash-style forward, recomputing backward).
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public class AttentionBenchmarks
{
    private const int B = 128, H = 8, N = 128, D = 16;
    private Hep.Engine.Tensor _q = null!, _k = null!, _v = null!, _u = null!, _mask = null!, _gradOut = null!;
    private Variable _vq = null!, _vk = null!, _vv = null!, _vu = null!;
    private torch.Tensor _tq = null!, _tk = null!, _tv = null!, _tu = null!, _tMask = null!, _tGradOut = null!;
    private int _nq, _nk;

    [Params("pair-bias", "class")]
    public string Form { get; set; } = "";

    private bool Bias => Form == "pair-bias";

    [GlobalSetup]
    public void Setup()
    {
        Torch.UseAllCores();
        var backend = CpuBackend.Shared;
        (_nq, _nk) = Bias ? (N, N) : (1, N + 1);
        _q = Rand(backend, 1, new Shape(B, H, _nq, D));
        _k = Rand(backend, 2, new Shape(B, H, _nk, D));
        _v = Rand(backend, 3, new Shape(B, H, _nk, D));
        _u = Rand(backend, 4, new Shape(B, H, _nq, _nk));
        _gradOut = Rand(backend, 5, new Shape(B, H, _nq, D));
        var rng = new Random(6);
        var mask = new float[B * _nk];
        var additive = new float[B * _nk];
        for (int b = 0; b < B; b++)
        {
            int real = rng.Next(16, N + 1) + (_nk - N);
            for (int j = 0; j < _nk; j++)
            {
                mask[b * _nk + j] = j < real ? 1 : 0;
                additive[b * _nk + j] = j < real ? 0 : float.NegativeInfinity;
            }
        }
        _mask = Hep.Engine.Tensor.FromArray<float>(backend, mask, new Shape(B, _nk));
        _vq = Variable.Parameter(_q);
        _vk = Variable.Parameter(_k);
        _vv = Variable.Parameter(_v);
        _vu = Variable.Parameter(_u);
        _tq = Torch.From(_q).requires_grad_(true);
        _tk = Torch.From(_k).requires_grad_(true);
        _tv = Torch.From(_v).requires_grad_(true);
        _tu = Torch.From(_u).requires_grad_(true);
        _tGradOut = Torch.From(_gradOut);
        _tMask = torch.tensor(additive, new long[] { B, 1, 1, _nk });
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        using (var ours = TensorOps.Attention(_q, _k, _v, Bias ? _u : null, _mask))
        {
            var ours32 = ours.ToArray<float>();
            Torch.AssertClose("Attention vs explicit", ours32, Torch.Floats(Explicit()), 1e-5, 1e-3);
            Torch.AssertClose("Attention vs SDPA", ours32, Torch.Floats(Sdpa()), 1e-5, 1e-3);
        }
    }

    private static Hep.Engine.Tensor Rand(IBackend backend, ulong seed, Shape shape)
    {
        var t = Hep.Engine.Tensor.Zeros(backend, shape);
        backend.Random.Uniform(seed, -1, 1, t);
        return t;
    }

    private torch.Tensor LogitBias() => Bias ? _tu + _tMask : _tMask;

    private torch.Tensor Explicit()
    {
        var s = torch.matmul(_tq, _tk.transpose(-1, -2)) * (1.0 / Math.Sqrt(D)) + LogitBias();
        return torch.matmul(torch.softmax(s, -1), _tv);
    }

    private torch.Tensor Sdpa() => torch.nn.functional.scaled_dot_product_attention(_tq, _tk, _tv, LogitBias());

    private long TorchBackward(torch.Tensor output)
    {
        var inputs = Bias ? new[] { _tq, _tk, _tv, _tu } : new[] { _tq, _tk, _tv };
        var grads = torch.autograd.grad([output], inputs, [_tGradOut]);
        return grads.Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _q, _k, _v, _u, _mask, _gradOut }) t.Dispose();
        foreach (var t in new[] { _tq, _tk, _tv, _tu, _tMask, _tGradOut }) t.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch: explicit")]
    [BenchmarkCategory("Forward")]
    public long LibtorchExplicitForward()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return Explicit().shape[2];
    }

    [Benchmark(Description = "libtorch: SDPA")]
    [BenchmarkCategory("Forward")]
    public long LibtorchSdpaForward()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return Sdpa().shape[2];
    }

    [Benchmark(Description = "engine: fused attention")]
    [BenchmarkCategory("Forward")]
    public int EngineForward()
    {
        using var y = TensorOps.Attention(_q, _k, _v, Bias ? _u : null, _mask);
        return y.Shape[2];
    }

    [Benchmark(Baseline = true, Description = "libtorch: explicit")]
    [BenchmarkCategory("Forward+backward")]
    public long LibtorchExplicitForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        return TorchBackward(Explicit());
    }

    [Benchmark(Description = "libtorch: SDPA")]
    [BenchmarkCategory("Forward+backward")]
    public long LibtorchSdpaForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        return TorchBackward(Sdpa());
    }

    [Benchmark(Description = "engine: fused attention")]
    [BenchmarkCategory("Forward+backward")]
    public int EngineForwardBackward()
    {
        using var scope = TensorScope.Begin();
        using (var tape = Tape.Begin())
        {
            var y = Fn.Attention(_vq, _vk, _vv, Bias ? _vu : null, _mask);
            tape.Backward(y, _gradOut);
        }
        int n = _vq.Grad!.Shape[2];
        foreach (var v in new[] { _vq, _vk, _vv, _vu }) v.ZeroGrad();
        return n;
    }
}
