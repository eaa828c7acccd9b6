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
/// 1.5 × copy time / backward time. Log-softmax backward dx = dy − e^y·Σ dy (y = log_softmax(x), no mask)
/// likewise: the engine's row kernel into a preallocated dx against libtorch's node through autograd.grad.
/// Bytes: the softmax kernels read every line of x (masked key blocks too: their outputs are 0 without
/// them, but the kernel loads them so the hardware prefetcher streams x) and write every line of y, a
/// copy's traffic. The copy baselines run on their own arrays placed like the engine's tensors (element 0
/// on a 64-byte line, as the CPU array pool places them), so neither side pays for split loads the other does not.
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public class SoftmaxBenchmarks
{
    private const int B = 128, H = 8, N = 128;
    private Hep.Engine.Tensor _x = null!, _y = null!, _mask = null!, _maskView = null!, _yBack = null!, _dy = null!, _dx = null!, _yLog = null!;
    private torch.Tensor _tx = null!, _ty = null!, _tMask = null!, _txGrad = null!, _tyGrad = null!, _tdy = null!, _txLog = null!, _tyLog = null!;
    private float[] _xData = null!, _yData = null!;
    private int _xStart, _yStart;   // first element of each copy operand, on a 64-byte line

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
        (_xData, _xStart) = AlignedArray(B * H * N * N);
        (_yData, _yStart) = AlignedArray(B * H * N * N);
        _x.ToArray<float>().CopyTo(_xData, _xStart);
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
        // Log-softmax backward: y = log_softmax(x), the same dy.
        _yLog = Hep.Engine.Tensor.Zeros(backend, _x.Shape);
        backend.Norm.SoftmaxForward(_x, _yLog, true);
        _txLog = _tx.detach().requires_grad_(true).DetachFromDisposeScope();
        _tyLog = _txLog.log_softmax(-1).DetachFromDisposeScope();
        Torch.AssertClose("LogSoftmax", _yLog.ToArray<float>(), Torch.Floats(_tyLog), 1e-5, 1e-5);
        backend.Norm.SoftmaxBackward(_yLog, _dy, _dx, true);
        var tLogGrad = torch.autograd.grad([_tyLog], [_txLog], [_tdy], retain_graph: true);
        Torch.AssertClose("LogSoftmaxBackward", _dx.ToArray<float>(), Torch.Floats(tLogGrad[0]), 1e-5, 1e-4);
        tLogGrad[0].Dispose();
    }

    // A pinned array of at least `count` floats and the index of its first element on a 64-byte line.
    private static unsafe (float[] Data, int Start) AlignedArray(int count)
    {
        var data = GC.AllocateArray<float>(count + 16, pinned: true);
        fixed (float* p = data) return (data, (int)((64 - ((nuint)p & 63)) & 63) / sizeof(float));
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
        _yLog.Dispose();
        _tyLog.Dispose();
        _txLog.Dispose();
    }

    [Benchmark(Baseline = true, Description = "streaming copy, 2 cores (bandwidth baseline)")]
    public unsafe void StreamingCopy()
    {
        var x = _xData;
        var y = _yData;
        int xs = _xStart, ys = _yStart;
        Parallel.For(0, 2, half =>
        {
            fixed (float* ax = x, ay = y)
            {
                float* px = ax + xs, py = ay + ys;
                long n = B * H * N * N, start = n * half / 2, end = n * (half + 1) / 2, i = start;
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
        int xs = _xStart, ys = _yStart;
        Parallel.For(0, 2, half =>
        {
            int total = B * H * N * N, n = total / 2, start = half * n, count = half == 0 ? n : total - n;
            x.AsSpan(xs + start, count).CopyTo(y.AsSpan(ys + start, count));
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

    [Benchmark(Description = "engine: log-softmax backward")]
    public void EngineLogSoftmaxBackward() => CpuBackend.Shared.Norm.SoftmaxBackward(_yLog, _dy, _dx, true);

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

    [Benchmark(Description = "libtorch: log-softmax backward")]
    public long LibtorchLogSoftmaxBackward()
    {
        var g = torch.autograd.grad([_tyLog], [_txLog], [_tdy], retain_graph: true);
        long r = g[0].shape[3];
        g[0].Dispose();
        return r;
    }
}
