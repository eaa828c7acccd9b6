using BenchmarkDotNet.Attributes;
using Hep.Engine;
using Hep.Kernels.Cpu;

namespace Hep.Benchmarks;

/// <summary>
/// float32 GEMM on the CPU backend at model-relevant shapes, next to <see cref="FmaPeak"/> doing the
/// same number of FMAs in registers (the baseline): Ratio = peak time / GEMM time⁻¹, i.e. the GEMM's
/// fraction of FMA peak is 1/Ratio. Target: ≥ 70% of peak on the large shapes.
///   16384×128·128×512: a ParticleNet EdgeConv-sized linear layer (B·N·K rows).
///   1024³: square reference.  batch 1024 × (128×16·16×128): attention scores per (B·H).
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private Tensor _a = null!, _b = null!, _c = null!;

    [Params("16384x128x512", "1024x1024x1024", "1024*128x16x128")]
    public string Shape { get; set; } = "";

    private (int Batch, int M, int K, int N) Dims()
    {
        var parts = Shape.Split('x');
        int batch = 1, m;
        if (parts[0].Contains('*'))
        {
            var bm = parts[0].Split('*');
            batch = int.Parse(bm[0]);
            m = int.Parse(bm[1]);
        }
        else m = int.Parse(parts[0]);
        return (batch, m, int.Parse(parts[1]), int.Parse(parts[2]));
    }

    [GlobalSetup]
    public void Setup()
    {
        var (batch, m, k, n) = Dims();
        var backend = CpuBackend.Shared;
        _a = Tensor.Zeros(backend, new Shape(batch, m, k));
        _b = Tensor.Zeros(backend, new Shape(batch, k, n));
        _c = Tensor.Zeros(backend, new Shape(batch, m, n));
        backend.Random.Uniform(1, -1, 1, _a);
        backend.Random.Uniform(2, -1, 1, _b);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        _c.Dispose();
    }

    [Benchmark(Baseline = true, Description = "FMA peak (same FMA count, registers only)")]
    public float Peak()
    {
        var (batch, m, k, n) = Dims();
        return FmaPeak.Run((long)batch * m * n * k);
    }

    [Benchmark(Description = "Packed SIMD GEMM")]
    public void Gemm() => CpuBackend.Shared.LinearAlgebra.MatMul(_a, _b, _c);
}
