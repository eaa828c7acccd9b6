using BenchmarkDotNet.Attributes;
using Hep.Engine;
using Hep.Engine.Ops;
using Hep.Kernels.Cpu;

namespace Hep.Benchmarks;

/// <summary>
/// Memory-bound kernels on 16 M floats (64 MB per operand, far beyond cache) against a plain
/// span copy of the same bytes in the same run (the baseline: bandwidth the machine reaches).
/// Add moves 3 arrays, copy and unary ops 2.
/// </summary>
[MemoryDiagnoser]
public class ElementwiseBenchmarks
{
    private const int N = 1 << 24;
    private float[] _src = null!, _dst = null!;
    private Tensor _x = null!, _y = null!, _z = null!;

    [GlobalSetup]
    public void Setup()
    {
        _src = new float[N];
        _dst = new float[N];
        var backend = CpuBackend.Shared;
        _x = Tensor.Zeros(backend, new Shape(N));
        _y = Tensor.Zeros(backend, new Shape(N));
        _z = Tensor.Zeros(backend, new Shape(N));
        backend.Random.Uniform(1, -1, 1, _x);
        backend.Random.Uniform(2, -1, 1, _y);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _y.Dispose();
        _z.Dispose();
    }

    [Benchmark(Baseline = true, Description = "span copy (2 streams)")]
    public void Copy() => CpuParallelCopy(_src, _dst);

    [Benchmark(Description = "Add (3 streams)")]
    public void Add() => CpuBackend.Shared.Elementwise.Binary(BinaryOp.Add, _x, _y, _z);

    [Benchmark(Description = "Relu (2 streams)")]
    public void Relu() => CpuBackend.Shared.Elementwise.Unary(UnaryOp.Relu, _x, _z);

    [Benchmark(Description = "Gelu (2 streams)")]
    public void Gelu() => CpuBackend.Shared.Elementwise.Unary(UnaryOp.Gelu, _x, _z);

    // Same chunking as the backend's kernels: one contiguous chunk per core.
    private static void CpuParallelCopy(float[] src, float[] dst)
    {
        int threads = Environment.ProcessorCount;
        Parallel.For(0, threads, t =>
        {
            int s = (int)((long)N * t / threads), e = (int)((long)N * (t + 1) / threads);
            src.AsSpan(s, e - s).CopyTo(dst.AsSpan(s, e - s));
        });
    }
}
