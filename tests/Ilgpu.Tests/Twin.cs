using Hep.Kernels.Cpu;

namespace Hep.Ilgpu.Tests;

/// <summary>
/// Runs the same op on the CPU backend (reference) and on ILGPU's CPU accelerator and compares.
/// Tolerances are relative to float32/float64 resolution; each helper documents why it differs.
/// </summary>
internal static class Twin
{
    private static readonly Lazy<IlgpuBackend> Shared = new(() => IlgpuBackend.Create(IlgpuDeviceKind.Cpu));

    public static IBackend Cpu => CpuBackend.Shared;

    /// <summary>One ILGPU CPU-accelerator backend for the whole test run (kernels compile once).</summary>
    public static IlgpuBackend Gpu => Shared.Value;

    /// <summary>Elementwise maps: a few ulps (vectorised CPU exp/log vs scalar device math).</summary>
    public static (double Atol, double Rtol) Elementwise(DType dtype) => dtype == DType.Float32 ? (2e-6, 4e-6) : (1e-13, 1e-12);

    /// <summary>Reductions over n terms in a different (tree vs SIMD) order: error grows like √n·ε.</summary>
    public static (double Atol, double Rtol) Summed(DType dtype, int n)
    {
        double s = Math.Sqrt(Math.Max(n, 1));
        return dtype == DType.Float32 ? (2e-6 * s, 4e-6 * s) : (1e-13 * s, 1e-12 * s);
    }

    public static Tensor Make(IBackend backend, double[] data, Shape shape, DType dtype) => dtype == DType.Int32
        ? Tensor.FromArray<int>(backend, Array.ConvertAll(data, v => (int)v), shape)
        : Operands.FromDoubles(backend, data, shape, dtype);

    /// <summary>The same host data on both backends.</summary>
    public static (Tensor Cpu, Tensor Gpu) Pair(double[] data, Shape shape, DType dtype) =>
        (Make(Cpu, data, shape, dtype), Make(Gpu, data, shape, dtype));

    public static (Tensor Cpu, Tensor Gpu) Random(int seed, Shape shape, DType dtype, double low = -1, double high = 1) =>
        Pair(Rand.Doubles(seed, (int)shape.Numel, low, high), shape, dtype);

    public static void Same(Tensor expected, Tensor actual, (double Atol, double Rtol) tol, string label, bool allowAllZero = false)
    {
        Assert.That(actual.Backend, Is.SameAs(Gpu), $"{label}: result is on the ILGPU backend");
        Assert.That(expected.Backend, Is.SameAs(Cpu), $"{label}: reference is on the CPU backend");
        TensorAssert.Close(actual, expected, tol.Atol, tol.Rtol, label, allowAllZero);
    }

    public static void Dispose(params (Tensor Cpu, Tensor Gpu)[] pairs)
    {
        foreach (var (c, g) in pairs)
        {
            c.Dispose();
            g.Dispose();
        }
    }
}
