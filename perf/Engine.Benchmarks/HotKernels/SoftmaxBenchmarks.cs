using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Hep.Engine;
using Hep.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks.HotKernels;

/// <summary>
/// Masked softmax over attention logits (B = 128, H = 8, N = 128 queries × 128 keys, 67 MB) with a
/// key padding mask (B, 1, 1, N), into a preallocated output, beside plain copies of the same tensor
/// (the bandwidth baseline: softmax reads x and writes y exactly like a copy). Baseline: a streaming copy
/// (AVX-512 loads, aligned non-temporal stores, one half per core), the fastest copy on this machine;
/// Ratio = time / that copy's time, so 1/Ratio is the fraction of copy bandwidth reached. Also shown:
/// memmove of the two halves (Span.CopyTo), the engine's Memory.Copy, libtorch's copy_ and softmax(x + mask),
/// and the unmasked softmax (engine: the same row kernel with no mask, into y; libtorch: softmax, allocating its output).
/// Softmax backward dx = y ⊙ (dy − Σ y ⊙ dy) over the same shape: the engine's row kernel into a preallocated
/// dx, libtorch's softmax backward node through autograd.grad on a retained graph (allocating dx). It moves
/// three tensors (reads y and dy, writes dx) against a copy's two, so its % of copy bandwidth is
/// 1.5 × copy time / backward time.
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public class SoftmaxBenchmarks
{
    private const int B = 128, H = 8, N = 128;
    private Hep.Engine.Tensor _x = null!, _y = null!, _mask = null!, _maskView = null!, _yBack = null!, _dy = null!, _dx = null!;
    private torch.Tensor _tx = null!, _ty = null!, _tMask = null!, _txGrad = null!, _tyGrad = null!, _tdy = null!;
    private float[] _xData = null!, _yData = null!;

    [GlobalSetup]
    public void Setup()
    {
        Torch.UseAllCores();
        var backend = CpuBackend.Shared;
        _x = Hep.Engine.Tensor.Zeros(backend, new Shape(B, H, N, N));
        _y = Hep.Engine.Tensor.Zeros(backend, new Shape(B, H, N, N));
        backend.Random.Uniform(1, -5, 5, _x);
        var rng = new Random(2);
        var mask = new float[B * N];
        for (int b = 0; b < B; b++)
        {
            int real = rng.Next(16, N + 1);
            for (int j = real; j < N; j++) mask[b * N + j] = float.NegativeInfinity;
        }
        _mask = Hep.Engine.Tensor.FromArray<float>(backend, mask, new Shape(B, 1, 1, N));
        _maskView = _mask.Expand(_x.Shape);
        _xData = new float[B * H * N * N];
        _yData = new float[B * H * N * N];
        _x.ToArray<float>().CopyTo(_xData, 0);
        _tx = Torch.From(_x);
        _ty = torch.zeros(B, H, N, N);
        _tMask = Torch.From(_mask);
        backend.Attention.MaskedSoftmaxForward(_x, _maskView, _y);
        using var scope = torch.NewDisposeScope();
        Torch.AssertClose("MaskedSoftmax", _y.ToArray<float>(), Torch.Floats(torch.softmax(_tx + _tMask, -1)), 1e-6, 1e-4);
        backend.Norm.SoftmaxForward(_x, _y, false);
        Torch.AssertClose("Softmax", _y.ToArray<float>(), Torch.Floats(torch.softmax(_tx, -1)), 1e-6, 1e-4);
        // Backward: y = softmax(x + mask) (padded keys 0), dy uniform in (−1, 1).
        _yBack = Hep.Engine.Tensor.Zeros(backend, _x.Shape);
        _dy = Hep.Engine.Tensor.Zeros(backend, _x.Shape);
        _dx = Hep.Engine.Tensor.Zeros(backend, _x.Shape);
        backend.Attention.MaskedSoftmaxForward(_x, _maskView, _yBack);
        backend.Random.Uniform(3, -1, 1, _dy);
        // (kept past the setup's dispose scope)
        _txGrad = (_tx + _tMask).detach().requires_grad_(true).DetachFromDisposeScope();
        _tyGrad = torch.softmax(_txGrad, -1).DetachFromDisposeScope();
        _tdy = Torch.From(_dy).DetachFromDisposeScope();
        backend.Norm.SoftmaxBackward(_yBack, _dy, _dx, false);
        var tGrad = torch.autograd.grad([_tyGrad], [_txGrad], [_tdy], retain_graph: true);
        Torch.AssertClose("SoftmaxBackward", _dx.ToArray<float>(), Torch.Floats(tGrad[0]), 1e-6, 1e-4);
        tGrad[0].Dispose();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _y.Dispose();
        _maskView.Dispose();
        _mask.Dispose();
        _tx.Dispose();
        _ty.Dispose();
        _tMask.Dispose();
        _yBack.Dispose();
        _dy.Dispose();
        _dx.Dispose();
        _tyGrad.Dispose();
        _txGrad.Dispose();
        _tdy.Dispose();
    }

    [Benchmark(Baseline = true, Description = "streaming copy, 2 cores (bandwidth baseline)")]
    public unsafe void StreamingCopy()
    {
        var x = _xData;
        var y = _yData;
        Parallel.For(0, 2, half =>
        {
            fixed (float* px = x, py = y)
            {
                long n = x.Length, start = n * half / 2, end = n * (half + 1) / 2, i = start;
                for (; i < end && ((nuint)(py + i) & 63) != 0; i++) py[i] = px[i];
                for (; i + 16 <= end; i += 16) Vector512.Load(px + i).StoreAlignedNonTemporal(py + i);
                for (; i < end; i++) py[i] = px[i];
            }
            System.Runtime.Intrinsics.X86.Sse.StoreFence();
        });
    }

    [Benchmark(Description = "memmove, 2 cores")]
    public void SpanCopy()
    {
        var x = _xData;
        var y = _yData;
        Parallel.For(0, 2, half =>
        {
            int n = x.Length / 2, start = half * n, count = half == 0 ? n : x.Length - n;
            x.AsSpan(start, count).CopyTo(y.AsSpan(start, count));
        });
    }

    [Benchmark(Description = "engine: copy")]
    public void EngineCopy() => CpuBackend.Shared.Memory.Copy(_x, _y);

    [Benchmark(Description = "engine: masked softmax")]
    public void EngineMaskedSoftmax() => CpuBackend.Shared.Attention.MaskedSoftmaxForward(_x, _maskView, _y);

    [Benchmark(Description = "engine: softmax (no mask)")]
    public void EngineSoftmax() => CpuBackend.Shared.Norm.SoftmaxForward(_x, _y, false);

    [Benchmark(Description = "engine: softmax backward")]
    public void EngineSoftmaxBackward() => CpuBackend.Shared.Norm.SoftmaxBackward(_yBack, _dy, _dx, false);

    [Benchmark(Description = "libtorch: copy_")]
    public void LibtorchCopy() => _ty.copy_(_tx);

    [Benchmark(Description = "libtorch: softmax(x)")]
    public long LibtorchSoftmaxUnmasked()
    {
        using var scope = torch.NewDisposeScope();
        return torch.softmax(_tx, -1).shape[3];
    }

    [Benchmark(Description = "libtorch: softmax(x + mask)")]
    public long LibtorchSoftmax()
    {
        using var scope = torch.NewDisposeScope();
        return torch.softmax(_tx + _tMask, -1).shape[3];
    }

    [Benchmark(Description = "libtorch: softmax backward")]
    public long LibtorchSoftmaxBackward()
    {
        var g = torch.autograd.grad([_tyGrad], [_txGrad], [_tdy], retain_graph: true);
        long r = g[0].shape[3];
        g[0].Dispose();
        return r;
    }
}
