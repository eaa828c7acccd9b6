using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Kernels.Cpu;
using Hep.Kernels.Cpu.Attention;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// The float32 softmax fast paths on the CPU: the softmax-only exp (<see cref="SoftmaxExp"/>) against
/// float64 over its whole input range, and unmasked float32 softmax (routed through the masked-softmax
/// row kernel with no mask) against a float64 reference: every row length class (partial vectors,
/// whole vectors, long rows), fully −∞ rows, large logits, and an output large enough to stream.
/// </summary>
public class SoftmaxFloat32Tests
{
    private static double UlpError(float f, double t)
    {
        double ulp = Math.Max((double)MathF.BitIncrement((float)t) - (float)t, float.Epsilon);
        return Math.Abs(f - t) / ulp;
    }

    private static float[] Eval(float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i += 16) SoftmaxExp.NonPositive(Vector512.Create<float>(x.AsSpan(i, 16))).CopyTo(y.AsSpan(i, 16));
        return y;
    }

    [Test]
    public void SoftmaxExpIsWithinTwoAndAHalfUlpOfFloat64()
    {
        if (!Avx512F.IsSupported) Assert.Ignore("SoftmaxExp runs only with AVX-512");
        // Every 97th float of (−1, 0] (all exponents and mantissa patterns), 4 M random floats over the
        // whole finite-result range [−104, 0] (including the subnormal results below −87.3), and every
        // float in the last binade before the result underflows to 0.
        var xs = new List<float>();
        for (int bits = 0; bits < 0x3F800000; bits += 97) xs.Add(-BitConverter.Int32BitsToSingle(bits));
        var rng = new Random(7);
        for (int i = 0; i < 1 << 22; i++) xs.Add((float)(-rng.NextDouble() * 104));
        for (float v = -104f; v < -103f; v = MathF.BitIncrement(v)) xs.Add(v);
        while (xs.Count % 16 != 0) xs.Add(0f);
        var input = xs.ToArray();
        var y = Eval(input);
        double worst = 0, worstSubnormal = 0;
        float at = 0;
        for (int i = 0; i < input.Length; i++)
        {
            double t = Math.Exp(input[i]);
            double err = UlpError(y[i], t);
            if (t < 1.1754943508222875e-38) worstSubnormal = Math.Max(worstSubnormal, err);
            else if (err > worst) (worst, at) = (err, input[i]);
        }
        TestContext.Out.WriteLine($"SoftmaxExp: worst {worst:F3} ulp at x = {at:R}, subnormal {worstSubnormal:F3} spacings");
        Assert.That(worst, Is.LessThanOrEqualTo(2.5), $"worst normal-range error {worst:F3} ulp at x = {at:R}");
        // Subnormal results are rounded twice (polynomial, then the scaling).
        Assert.That(worstSubnormal, Is.LessThanOrEqualTo(1.5), "subnormal results");
    }

    [Test]
    public void SoftmaxExpSpecialValues()
    {
        if (!Avx512F.IsSupported) Assert.Ignore("SoftmaxExp runs only with AVX-512");
        var x = new float[] { 0f, -0f, float.NegativeInfinity, float.NaN, -1000f, -104f, -110f, -1e-30f, -1f, -87.3f, -103.97f, -0.5f, -20f, -1e-7f, -3.4e38f, -0.34657359f };
        var y = Eval(x);
        Assert.That(y[0], Is.EqualTo(1f), "e⁰ is exactly 1 (the row max's term)");
        Assert.That(y[1], Is.EqualTo(1f));
        Assert.That(y[2], Is.EqualTo(0f), "masked key");
        Assert.That(float.IsNaN(y[3]), Is.True, "NaN propagates");
        Assert.That(y[4], Is.EqualTo(0f));
        Assert.That(y[5], Is.EqualTo(0f));
        Assert.That(y[6], Is.EqualTo(0f));
        Assert.That(y[7], Is.EqualTo(1f));
        Assert.That(UlpError(y[8], Math.Exp(-1.0)), Is.LessThanOrEqualTo(2.5));
        Assert.That(y[14], Is.EqualTo(0f));
        Assert.That(y.Where((v, i) => i != 3).All(v => v >= 0 && float.IsFinite(v)), Is.True, "finite, non-negative");
    }

    // Unmasked float32 softmax against float64 for row lengths of every kernel class: one partial vector,
    // several vectors with and without a partial last one, and rows longer than 8 vectors; some rows all
    // −∞ (zeros), some holding 1234 beside 0 (finite: the max is subtracted first).
    [TestCase(1)]
    [TestCase(5)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(100)]
    [TestCase(128)]
    [TestCase(129)]
    [TestCase(300)]
    public void UnmaskedSoftmaxMatchesFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        const int rows = 37;
        var x = Rand.Floats(900 + n, rows * n, -15, 15);
        for (int j = 0; j < n; j++) x[3 * n + j] = float.NegativeInfinity;
        x[5 * n] = 1234f;
        x[5 * n + n - 1] = 0f;
        for (int j = 0; j < n; j += 3) x[7 * n + j] = float.NegativeInfinity;
        var expect = Reference(x, rows, n);
        using var xt = Tensor.FromArray<float>(backend, x, new Shape(rows, n));
        using var y = TensorOps.Softmax(xt, -1);
        var yv = y.ToArray<float>();
        Assert.That(yv.All(float.IsFinite), Is.True, "finite");
        Assert.That(yv.AsSpan(3 * n, n).ToArray(), Has.All.EqualTo(0f), "fully −∞ row gives zeros");
        Assert.That(yv[5 * n], Is.EqualTo(1f), "1234 beside smaller logits takes all the mass");
        TensorAssert.Close(yv.Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, $"n = {n}", allowAllZero: n == 1);
    }

    // Rows whose max lies outside the band where the kernel skips the shift (all logits far below 0,
    // or far above) and rows straddling its edges: the same float64 agreement.
    [TestCase(-300f)]
    [TestCase(-60f)]
    [TestCase(-17f)]
    [TestCase(-15f)]
    [TestCase(63f)]
    [TestCase(66f)]
    [TestCase(500f)]
    public void UnmaskedSoftmaxOfShiftedLogitsMatchesFloat64(float offset)
    {
        var backend = CpuBackend.Shared;
        const int rows = 64, n = 128;
        var x = Rand.Floats(31, rows * n, -3, 0);
        for (int i = 0; i < x.Length; i++) x[i] += offset;
        for (int r = 0; r < rows; r += 4) x[r * n + r % n] = offset + 1f;   // some rows' max just above the offset
        var expect = Reference(x, rows, n);
        using var xt = Tensor.FromArray<float>(backend, x, new Shape(rows, n));
        using var y = TensorOps.Softmax(xt, -1);
        TensorAssert.Close(y.ToArray<float>().Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, $"offset {offset}");
    }

    // An output above the streaming threshold (non-temporal stores), n = 128 (whole vectors) and a
    // ragged n, from a view at an odd offset so that rows are not 64-byte aligned.
    [TestCase(128)]
    [TestCase(1001)]
    public void UnmaskedStreamingSoftmaxMatchesFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        int rows = (int)(StreamingStores.ThresholdBytes / sizeof(float) / n) + 3;
        Assert.That(StreamingStores.Pays<float>((long)rows * n), Is.EqualTo(Avx512F.IsSupported), "reaches the streaming path");
        var x = Rand.Floats(77 + n, rows * n + 3, -20, 20);
        for (int j = 0; j < n; j++) x[3 + 11 * n + j] = float.NegativeInfinity;
        using var all = Tensor.FromArray<float>(backend, x, new Shape(rows * n + 3));
        using var flat = all.Slice(0, 3, rows * n);
        using var xt = flat.View(rows, n);
        using var y = TensorOps.Softmax(xt, -1);
        var yv = y.ToArray<float>();
        var expect = Reference(x.AsSpan(3, rows * n).ToArray(), rows, n);
        Assert.That(yv.AsSpan(11 * n, n).ToArray(), Has.All.EqualTo(0f), "fully −∞ row gives zeros");
        TensorAssert.Close(yv.Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, $"n = {n}");
    }

    private static double[] Reference(float[] x, int rows, int n)
    {
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < n; j++) max = Math.Max(max, x[r * n + j]);
            if (double.IsNegativeInfinity(max)) continue;
            for (int j = 0; j < n; j++) sum += y[r * n + j] = Math.Exp(x[r * n + j] - max);
            for (int j = 0; j < n; j++) y[r * n + j] /= sum;
        }
        return y;
    }
}
