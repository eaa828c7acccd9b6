using BenchmarkDotNet.Attributes;
using Hep.Engine;
using Hep.Engine.Ops;
using Hep.Kernels.Ilgpu;

namespace Hep.Benchmarks;

/// <summary>
/// GEMM and elementwise kernels on the ILGPU backend (CUDA when present, else OpenCL, else the CPU
/// accelerator, whose figures are not meaningful). Baseline: a device-to-device copy of the same
/// 64 MB in the same run (the bandwidth the card reaches); GEMM rows report time, from which
/// TFLOP/s = 2·M·N·K / time. Every benchmark synchronises the stream inside the timed call.
/// Run on a GPU node with the self-contained runner from scripts/publish.sh:
/// <c>publish/bench/Engine.Benchmarks --filter '*Ilgpu*'</c>.
/// </summary>
public class IlgpuBenchmarks
{
    private const int N = 1 << 24;
    private IlgpuBackend _backend = null!;
    private Tensor _x = null!, _y = null!, _z = null!, _a = null!, _b = null!, _c = null!;

    [Params(512, 1024)]
    public int Square { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = IlgpuBackend.CreateBest();
        Console.WriteLine($"// ILGPU device: {_backend.Name} ({_backend.Device})");
        int n = _backend.Kind == IlgpuDeviceKind.Cpu ? 1 << 16 : N; // the simulator is slow: small sizes there
        _x = Tensor.Zeros(_backend, new Shape(n));
        _y = Tensor.Zeros(_backend, new Shape(n));
        _z = Tensor.Zeros(_backend, new Shape(n));
        _backend.Random.Uniform(1, -1, 1, _x);
        _backend.Random.Uniform(2, -1, 1, _y);
        int s = _backend.Kind == IlgpuDeviceKind.Cpu ? 64 : Square;
        _a = Tensor.Zeros(_backend, new Shape(1, s, s));
        _b = Tensor.Zeros(_backend, new Shape(1, s, s));
        _c = Tensor.Zeros(_backend, new Shape(1, s, s));
        _backend.Random.Uniform(3, -1, 1, _a);
        _backend.Random.Uniform(4, -1, 1, _b);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _x, _y, _z, _a, _b, _c }) t.Dispose();
        _backend.Dispose();
    }

    [Benchmark(Baseline = true, Description = "device copy (2 streams)")]
    public void Copy()
    {
        _backend.Memory.Copy(_x, _z);
        _backend.Synchronize();
    }

    [Benchmark(Description = "Add (3 streams)")]
    public void Add()
    {
        _backend.Elementwise.Binary(BinaryOp.Add, _x, _y, _z);
        _backend.Synchronize();
    }

    [Benchmark(Description = "Gelu (2 streams)")]
    public void Gelu()
    {
        _backend.Elementwise.Unary(UnaryOp.Gelu, _x, _z);
        _backend.Synchronize();
    }

    [Benchmark(Description = "GEMM Square³")]
    public void Gemm()
    {
        _backend.LinearAlgebra.MatMul(_a, _b, _c);
        _backend.Synchronize();
    }
}
