using System.Runtime.Intrinsics.X86;
using Hep.Kernels.Cpu;
using Hep.Kernels.Cpu.Attention;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// The float32 softmax backward row kernel (<see cref="MaskedSoftmaxAvx512.BackwardRows"/>, taken by
/// softmax and masked-softmax backward with AVX-512): dx = y ⊙ (dy − Σ y ⊙ dy) against a float64
/// reference computed from the same float32 y and dy, for every row-length class (1 vector, a partial
/// vector, whole vectors specialised or not, long rows), fully masked rows (y = 0 → dx = 0), an output
/// large enough to stream from a view whose rows are not 64-byte aligned, and deliberately broken
/// results (the Σ term dropped, one row left unwritten) that the same check must reject. The log-softmax
/// backward (the same kernel with the log flag): dx = dy − e^y·Σ dy against float64 over the same classes,
/// fully masked rows (y = −∞ → dx = dy), streaming, and broken results (Σ term dropped, y in place of e^y,
/// one row unwritten) rejected.
/// </summary>
public class SoftmaxBackwardFloat32Tests
{
    private const double Atol = 1e-6, Rtol = 1e-5;

    [TestCase(1)]
    [TestCase(5)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(48)]
    [TestCase(64)]
    [TestCase(100)]
    [TestCase(128)]
    [TestCase(129)]
    [TestCase(300)]
    public void BackwardMatchesFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        const int rows = 37;
        var (y, g) = Inputs(rows, n, 500 + n);
        using var yt = Tensor.FromArray<float>(backend, y, new Shape(rows, n));
        using var gt = Tensor.FromArray<float>(backend, g, new Shape(rows, n));
        using var dx = TensorOps.SoftmaxBackward(yt, gt, -1);
        var got = dx.ToArray<float>();
        var expect = Reference(y, g, rows, n);
        Assert.That(got.AsSpan(3 * n, n).ToArray(), Has.All.EqualTo(0f), "fully masked row gives zeros");
        Assert.That(Mismatches(got, expect), Is.Zero, $"n = {n}");
        // The masked softmax's backward takes the same kernel.
        using var dm = TensorOps.MaskedSoftmaxBackward(yt, gt);
        Assert.That(dm.ToArray<float>(), Is.EqualTo(got), "masked softmax backward");
    }

    // Above the streaming threshold (non-temporal stores of dx), rows of 128 from views at an odd
    // offset (not 64-byte aligned), with the work split into chunks; and a ragged n (ordinary stores).
    [TestCase(128)]
    [TestCase(1001)]
    public void StreamingBackwardMatchesFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        int rows = (int)(StreamingStores.ThresholdBytes / sizeof(float) / n) + 3;
        Assert.That(StreamingStores.Pays<float>((long)rows * n), Is.EqualTo(Avx512F.IsSupported), "reaches the streaming path");
        var (y, g) = Inputs(rows, n, 900 + n);
        using var yAll = Tensor.FromArray<float>(backend, [0f, 0f, 0f, .. y], new Shape(rows * n + 3));
        using var gAll = Tensor.FromArray<float>(backend, [0f, .. g], new Shape(rows * n + 1));
        using var yFlat = yAll.Slice(0, 3, rows * n);
        using var gFlat = gAll.Slice(0, 1, rows * n);
        using var yt = yFlat.View(rows, n);
        using var gt = gFlat.View(rows, n);
        using var dx = TensorOps.SoftmaxBackward(yt, gt, -1);
        var got = dx.ToArray<float>();
        Assert.That(got.AsSpan(3 * n, n).ToArray(), Has.All.EqualTo(0f), "fully masked row gives zeros");
        Assert.That(Mismatches(got, Reference(y, g, rows, n)), Is.Zero, $"n = {n}");
    }

    // The check is not vacuous: the kernel's own output passes it, and the same output with the −Σ y·dy
    // term dropped, or with one row (the last, a partial vector at n = 17) left unwritten, fails it.
    [TestCase(17)]
    [TestCase(128)]
    public void BrokenBackwardIsRejected(int n)
    {
        if (!Avx512F.IsSupported) Assert.Ignore("AVX-512 kernel");
        const int rows = 9;
        var (y, g) = Inputs(rows, n, 77);
        var expect = Reference(y, g, rows, n);
        var dx = new float[rows * n];
        var partial = new float[rows * n];
        Array.Fill(partial, float.NaN);
        unsafe
        {
            fixed (float* py = y, pg = g, px = dx, pp = partial)
            {
                MaskedSoftmaxAvx512.BackwardRows(py, pg, px, n, 0, rows, stream: false);
                MaskedSoftmaxAvx512.BackwardRows(py, pg, pp, n, 0, rows - 1, stream: false);
            }
        }
        Assert.That(Mismatches(dx, expect), Is.Zero, "the kernel passes");
        var dropped = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double dot = 0;
            for (int j = 0; j < n; j++) dot += (double)y[r * n + j] * g[r * n + j];
            for (int j = 0; j < n; j++) dropped[r * n + j] = dx[r * n + j] + (float)(y[r * n + j] * dot);
        }
        Assert.That(Mismatches(dropped, expect), Is.GreaterThan(n / 2), "Σ term dropped");
        Assert.That(Mismatches(partial, expect), Is.EqualTo(n), "last row unwritten");
    }

    [TestCase(1)]
    [TestCase(5)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(48)]
    [TestCase(64)]
    [TestCase(100)]
    [TestCase(128)]
    [TestCase(129)]
    [TestCase(300)]
    public void LogBackwardMatchesFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        const int rows = 37;
        var (y, g) = LogInputs(rows, n, 600 + n);
        using var yt = Tensor.FromArray<float>(backend, y, new Shape(rows, n));
        using var gt = Tensor.FromArray<float>(backend, g, new Shape(rows, n));
        using var dx = TensorOps.SoftmaxBackward(yt, gt, -1, log: true);
        var got = dx.ToArray<float>();
        Assert.That(got.AsSpan(3 * n, n).ToArray(), Is.EqualTo(g.AsSpan(3 * n, n).ToArray()), "fully masked row gives dy");
        Assert.That(LogMismatches(got, y, g, rows, n), Is.Zero, $"n = {n}");
    }

    // Above the streaming threshold, from views that are not 64-byte aligned (as StreamingBackwardMatchesFloat64).
    [TestCase(128)]
    [TestCase(1001)]
    public void StreamingLogBackwardMatchesFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        int rows = (int)(StreamingStores.ThresholdBytes / sizeof(float) / n) + 3;
        var (y, g) = LogInputs(rows, n, 950 + n);
        using var yAll = Tensor.FromArray<float>(backend, [0f, 0f, 0f, .. y], new Shape(rows * n + 3));
        using var gAll = Tensor.FromArray<float>(backend, [0f, .. g], new Shape(rows * n + 1));
        using var yFlat = yAll.Slice(0, 3, rows * n);
        using var gFlat = gAll.Slice(0, 1, rows * n);
        using var yt = yFlat.View(rows, n);
        using var gt = gFlat.View(rows, n);
        using var dx = TensorOps.SoftmaxBackward(yt, gt, -1, log: true);
        var got = dx.ToArray<float>();
        Assert.That(got.AsSpan(3 * n, n).ToArray(), Is.EqualTo(g.AsSpan(3 * n, n).ToArray()), "fully masked row gives dy");
        Assert.That(LogMismatches(got, y, g, rows, n), Is.Zero, $"n = {n}");
    }

    // The log check is not vacuous: the kernel's output passes; with the e^y·Σ dy term dropped, with y in
    // place of e^y, or with the last row (a partial vector at n = 17) unwritten, it fails.
    [TestCase(17)]
    [TestCase(128)]
    public void BrokenLogBackwardIsRejected(int n)
    {
        if (!Avx512F.IsSupported) Assert.Ignore("AVX-512 kernel");
        const int rows = 9;
        var (y, g) = LogInputs(rows, n, 78);
        var dx = new float[rows * n];
        var partial = new float[rows * n];
        Array.Fill(partial, float.NaN);
        unsafe
        {
            fixed (float* py = y, pg = g, px = dx, pp = partial)
            {
                MaskedSoftmaxAvx512.BackwardRows(py, pg, px, n, 0, rows, stream: false, log: true);
                MaskedSoftmaxAvx512.BackwardRows(py, pg, pp, n, 0, rows - 1, stream: false, log: true);
            }
        }
        Assert.That(LogMismatches(dx, y, g, rows, n), Is.Zero, "the kernel passes");
        var dropped = (float[])g.Clone();
        var linear = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += g[r * n + j];
            for (int j = 0; j < n; j++)
            {
                int i = r * n + j;
                linear[i] = float.IsNegativeInfinity(y[i]) ? g[i] : (float)(g[i] - y[i] * sum);
            }
        }
        Assert.That(LogMismatches(dropped, y, g, rows, n), Is.GreaterThan(n / 2), "Σ term dropped");
        Assert.That(LogMismatches(linear, y, g, rows, n), Is.GreaterThan(n / 2), "y in place of e^y");
        Assert.That(LogMismatches(partial, y, g, rows, n), Is.EqualTo(n), "last row unwritten");
    }

    // y: log-softmax rows of logits in [−4, 4] (float64, rounded; ≤ 0), row 3 fully masked (all −∞),
    // row 5 partly masked (−∞ entries); dy in [−3, 3].
    private static (float[] Y, float[] G) LogInputs(int rows, int n, int seed)
    {
        var x = Rand.Doubles(seed, rows * n, -4, 4);
        var g = Rand.Floats(seed + 1, rows * n, -3, 3);
        var y = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            if (r == 3)
            {
                Array.Fill(y, float.NegativeInfinity, r * n, n);
                continue;
            }
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < n; j++)
            {
                if (r == 5 && j % 3 == 1) x[r * n + j] = double.NegativeInfinity;
                max = Math.Max(max, x[r * n + j]);
            }
            for (int j = 0; j < n; j++) sum += Math.Exp(x[r * n + j] - max);
            for (int j = 0; j < n; j++) y[r * n + j] = (float)(x[r * n + j] - max - Math.Log(sum));
        }
        return (y, g);
    }

    // Entries of a log-softmax dx outside atol + rtol·(|dy| + |e^y·Σ dy|) of dy − e^y·Σ dy in float64 from the
    // float32 inputs (the scale of the two terms, since they cancel; NaN counts as outside).
    private static int LogMismatches(float[] actual, float[] y, float[] g, int rows, int n)
    {
        int bad = 0;
        double largest = 0;
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += g[r * n + j];
            for (int j = 0; j < n; j++)
            {
                int i = r * n + j;
                double term = Math.Exp(y[i]) * sum, expect = g[i] - term;
                largest = Math.Max(largest, Math.Abs(term));
                double diff = Math.Abs(actual[i] - expect);
                if (!(diff <= Atol + Rtol * (Math.Abs(g[i]) + Math.Abs(term)))) bad++;
            }
        }
        // The e^y·Σ dy term must matter somewhere, or dropping it would pass.
        Assert.That(largest, Is.GreaterThan(1e-2), "reference not degenerate");
        return bad;
    }

    // y: softmax rows of logits in [−4, 4] (computed in float64, rounded), row 3 fully masked (zeros),
    // row 5 partly masked; dy in [−3, 3].
    private static (float[] Y, float[] G) Inputs(int rows, int n, int seed)
    {
        var x = Rand.Doubles(seed, rows * n, -4, 4);
        var g = Rand.Floats(seed + 1, rows * n, -3, 3);
        var y = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            if (r == 3) continue;
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < n; j++)
            {
                if (r == 5 && j % 3 == 1) x[r * n + j] = double.NegativeInfinity;
                max = Math.Max(max, x[r * n + j]);
            }
            for (int j = 0; j < n; j++) sum += Math.Exp(x[r * n + j] - max);
            for (int j = 0; j < n; j++) y[r * n + j] = (float)(Math.Exp(x[r * n + j] - max) / sum);
        }
        return (y, g);
    }

    // dx = y ⊙ (dy − Σ y ⊙ dy) in float64 from the float32 inputs.
    private static double[] Reference(float[] y, float[] g, int rows, int n)
    {
        var dx = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double dot = 0;
            for (int j = 0; j < n; j++) dot += (double)y[r * n + j] * g[r * n + j];
            for (int j = 0; j < n; j++) dx[r * n + j] = y[r * n + j] * (g[r * n + j] - dot);
        }
        // n = 1: y = 1 and dx = dy − dy = 0 (exactly, in float32 too); otherwise the check must see values.
        if (n > 1) Assert.That(dx.Max(v => Math.Abs(v)), Is.GreaterThan(1e-2), "reference not degenerate");
        return dx;
    }

    // Entries outside atol + rtol·|expected| (NaN counts as outside).
    private static int Mismatches(float[] actual, double[] expected)
    {
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            if (!(diff <= Atol + Rtol * Math.Abs(expected[i]))) bad++;
        }
        return bad;
    }
}
