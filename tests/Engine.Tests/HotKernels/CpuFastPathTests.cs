using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Kernels.Cpu;
using Hep.Kernels.Cpu.Attention;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// CPU-only paths of the hot kernels that the small cross-backend cases do not reach: the float32 exp
/// approximation's error bound against float64, and masked softmax outputs large enough for the
/// streaming (non-temporal) store path.
/// </summary>
public class CpuFastPathTests
{
    // ulp distance between a float result and the float64 truth: |f − t| / ulp(t) with ulp(t) the
    // float spacing at t (the smallest subnormal spacing below the normal range).
    private static double UlpError(float f, double t)
    {
        double ulp = Math.Max((double)MathF.BitIncrement((float)t) - (float)t, float.Epsilon);
        if (float.IsInfinity((float)t)) return f == (float)t ? 0 : double.PositiveInfinity;
        return Math.Abs(f - t) / ulp;
    }

    private static float[] Eval(Func<Vector512<float>, Vector512<float>> exp, float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i += 16) exp(Vector512.Create<float>(x.AsSpan(i, 16))).CopyTo(y.AsSpan(i, 16));
        return y;
    }

    [Test]
    public void FastExpIsWithinOneUlpOfFloat64()
    {
        // Every 97th float of (−1, 1) (all exponents and mantissa patterns), plus 4 M random floats over
        // the whole finite-result range (including the subnormal results below −87.3).
        var xs = new List<float>();
        for (int bits = 0; bits < 0x3F800000; bits += 97)
        {
            xs.Add(BitConverter.Int32BitsToSingle(bits));
            xs.Add(-BitConverter.Int32BitsToSingle(bits));
        }
        var rng = new Random(5);
        for (int i = 0; i < 1 << 22; i++) xs.Add((float)(rng.NextDouble() * (88.7 + 103.9) - 103.9));
        while (xs.Count % 16 != 0) xs.Add(0f);
        var input = xs.ToArray();
        foreach (var (name, f) in new (string, Func<Vector512<float>, Vector512<float>>)[] { ("Exp", FastExp.Exp), ("NonPositive", FastExp.NonPositive) })
        {
            var y = Eval(f, input);
            double worst = 0, worstSubnormal = 0;
            float at = 0;
            for (int i = 0; i < input.Length; i++)
            {
                if (name == "NonPositive" && input[i] > 0) continue;
                double t = Math.Exp(input[i]);
                double err = UlpError(y[i], t);
                if (t < 1.1754943508222875e-38) worstSubnormal = Math.Max(worstSubnormal, err);
                else if (err > worst) (worst, at) = (err, input[i]);
            }
            TestContext.Out.WriteLine($"{name}: worst {worst:F3} ulp at x = {at:R}, subnormal {worstSubnormal:F3}");
            Assert.That(worst, Is.LessThanOrEqualTo(1.0), $"{name}: worst normal-range error {worst:F3} ulp at x = {at:R}");
            // Subnormal results are rounded twice (polynomial, then the scaling): within 1 subnormal
            // spacing. (The portable path flushes them to 0 instead.)
            if (Avx512F.IsSupported)
                Assert.That(worstSubnormal, Is.LessThanOrEqualTo(1.0), $"{name}: subnormal results");
        }
    }

    [Test]
    public void FastExpSpecialValues()
    {
        var x = new float[] { 0f, -0f, float.NegativeInfinity, float.PositiveInfinity, float.NaN, -1000f, 1000f, 88.7f, 89f, -87.3f, -103.98f, -110f, 1f, -1f, 0.5f, 1e-30f };
        var y = Eval(FastExp.Exp, x);
        Assert.That(y[0], Is.EqualTo(1f));
        Assert.That(y[1], Is.EqualTo(1f));
        Assert.That(y[2], Is.EqualTo(0f));
        Assert.That(y[3], Is.EqualTo(float.PositiveInfinity));
        Assert.That(float.IsNaN(y[4]), Is.True, "NaN propagates");
        Assert.That(y[5], Is.EqualTo(0f));
        Assert.That(y[6], Is.EqualTo(float.PositiveInfinity));
        Assert.That(UlpError(y[7], Math.Exp(88.7f)), Is.LessThanOrEqualTo(2));
        Assert.That(y[8], Is.EqualTo(float.PositiveInfinity));
        Assert.That(y[11], Is.EqualTo(0f));
        Assert.That(y[15], Is.EqualTo(1f));
        var z = Eval(FastExp.NonPositive, x);
        Assert.That(z[0], Is.EqualTo(1f));
        Assert.That(z[2], Is.EqualTo(0f));
        Assert.That(float.IsNaN(z[4]), Is.True, "NaN propagates");
        Assert.That(z[5], Is.EqualTo(0f));
    }

    // (rows, n) shapes above the streaming threshold (8 MB of output): n a multiple of 16 (ParT's 128)
    // and a ragged n, with a key mask broadcast over heads and queries, a row mask (last-axis stride 0),
    // and fully masked rows.
    [TestCase(128, 8, 16, 128)]
    [TestCase(3, 5, 14, 10007)]
    public void MaskedSoftmaxStreamingPathMatchesFloat64(int b, int h, int nq, int n)
    {
        var backend = CpuBackend.Shared;
        int rows = b * h * nq;
        Assert.That(StreamingStores.Pays<float>((long)rows * n), Is.EqualTo(Avx512F.IsSupported), "reaches the streaming path");
        var x = Rand.Floats(71, rows * n, -8, 8);
        var keyMask = new float[b * n];
        for (int bi = 0; bi < b; bi++)
        {
            int real = bi == 1 ? 0 : 1 + (bi * 37 % n);   // jet 1 fully masked
            for (int j = real; j < n; j++) keyMask[bi * n + j] = float.NegativeInfinity;
        }
        var rowMask = new float[rows];
        for (int r = 0; r < rows; r++) rowMask[r] = r % 11 == 4 ? float.NegativeInfinity : 0;
        using var xt = Tensor.FromArray<float>(backend, x, new Shape(b, h, nq, n));
        using var km = Tensor.FromArray<float>(backend, keyMask, new Shape(b, 1, 1, n));
        using var rm = Tensor.FromArray<float>(backend, rowMask, new Shape(b, h, nq, 1));
        foreach (var (label, mask, maskOf) in new (string, Tensor, Func<int, int, float>)[]
                 {
                     ("key mask", km, (r, j) => keyMask[r / (h * nq) * n + j]),
                     ("row mask", rm, (r, j) => rowMask[r]),
                 })
        {
            using var y = TensorOps.MaskedSoftmax(xt, mask);
            var yv = y.ToArray<float>();
            var logits = new double[n];
            double worst = 0;
            string worstAt = "";
            for (int r = 0; r < rows; r++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < n; j++) max = Math.Max(max, logits[j] = (double)x[r * n + j] + maskOf(r, j));
                double sum = 0;
                for (int j = 0; j < n; j++) sum += double.IsNegativeInfinity(max) ? 0 : Math.Exp(logits[j] - max);
                for (int j = 0; j < n; j++)
                {
                    double expect = double.IsNegativeInfinity(max) ? 0 : Math.Exp(logits[j] - max) / sum;
                    // Mixed tolerance in units of (1e-9 + 2e-6·|expected|).
                    double err = Math.Abs(yv[r * n + j] - expect) / (1e-9 + 2e-6 * expect);
                    if (err > worst) (worst, worstAt) = (err, $"row {r}, column {j}: {yv[r * n + j]:R} vs {expect:R}");
                }
            }
            Assert.That(worst, Is.LessThanOrEqualTo(1.0), $"{label}: {worstAt}");
            Assert.That(yv.Max(), Is.GreaterThan(1e-3f), $"{label}: output not degenerate");
            if (mask == km) Assert.That(yv.AsSpan(h * nq * n, h * nq * n).ToArray(), Has.All.EqualTo(0f), "fully masked jet");
        }
    }

    // float64 softmax(x + mask) of one row; mask(j) is the additive mask.
    private static double[] ReferenceRow(float[] x, int offset, int n, Func<int, float> mask)
    {
        var logits = new double[n];
        double max = double.NegativeInfinity;
        for (int j = 0; j < n; j++) max = Math.Max(max, logits[j] = (double)x[offset + j] + mask(j));
        var y = new double[n];
        if (double.IsNegativeInfinity(max)) return y;
        double sum = 0;
        for (int j = 0; j < n; j++) sum += y[j] = Math.Exp(logits[j] - max);
        for (int j = 0; j < n; j++) y[j] /= sum;
        return y;
    }

    // Every row length class of the register path (1 … 8 vectors, partial last vector) and of the long-row
    // path, with no mask, a key mask (stride 1), a row mask (last-axis stride 0), and masked rows.
    [Test]
    public void MaskedSoftmaxRowLengthsMatchFloat64()
    {
        var backend = CpuBackend.Shared;
        foreach (int n in new[] { 1, 2, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 80, 100, 127, 128, 129, 144, 200, 257, 1000 })
        {
            const int b = 2, rows = 6;
            var x = Rand.Floats(80 + n, b * rows * n, -20, 20);
            var keyMask = new float[b * n];
            for (int j = 0; j < n; j++) keyMask[j] = j % 3 == 1 ? float.NegativeInfinity : 0;   // jet 0: a third masked
            for (int j = 0; j < n; j++) keyMask[n + j] = float.NegativeInfinity;              // jet 1: fully masked
            var rowMask = Enumerable.Range(0, b * rows).Select(r => r % 4 == 2 ? float.NegativeInfinity : 0f).ToArray();
            using var xt = Tensor.FromArray<float>(backend, x, new Shape(b, rows, n));
            using var km = Tensor.FromArray<float>(backend, keyMask, new Shape(b, 1, n));
            using var rm = Tensor.FromArray<float>(backend, rowMask, new Shape(b, rows, 1));
            foreach (var (label, mask, maskOf) in new (string, Tensor?, Func<int, int, float>)[]
                     {
                         ("no mask", null, (r, j) => 0f),
                         ("key mask", km, (r, j) => keyMask[r / rows * n + j]),
                         ("row mask", rm, (r, j) => rowMask[r]),
                     })
            {
                using var y = TensorOps.MaskedSoftmax(xt, mask);
                var yv = y.ToArray<float>();
                var expect = new double[yv.Length];
                for (int r = 0; r < b * rows; r++) ReferenceRow(x, r * n, n, j => maskOf(r, j)).CopyTo(expect, r * n);
                TensorAssert.Close(yv.Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, $"n = {n}, {label}", allowAllZero: n == 1);
            }
        }
    }

    // The streaming path writes y through a one-vector shifting window onto aligned cache lines: outputs
    // at every alignment (view offsets 0 … 15 floats), rows of 1, 3, 8 vectors and a long row.
    [TestCase(16)]
    [TestCase(48)]
    [TestCase(128)]
    [TestCase(256)]
    public void MaskedSoftmaxStreamingAtEveryAlignment(int n)
    {
        var backend = CpuBackend.Shared;
        int rows = (int)((StreamingStores.ThresholdBytes / sizeof(float) + n - 1) / n), b = 4;
        rows = (rows + b - 1) / b * b;
        var x = Rand.Floats(90 + n, rows * n, -6, 6);
        var keyMask = new float[b * n];
        for (int bi = 0; bi < b; bi++)
            for (int j = bi == 2 ? 0 : n / (bi + 1); j < n; j++) keyMask[bi * n + j] = float.NegativeInfinity;   // jet 2 fully masked
        using var xt = Tensor.FromArray<float>(backend, x, new Shape(b, rows / b, n));
        using var km = Tensor.FromArray<float>(backend, keyMask, new Shape(b, 1, n));
        using var maskView = km.Expand(xt.Shape);
        var expect = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            int bi = r / (rows / b);
            ReferenceRow(x, r * n, n, j => keyMask[bi * n + j]).CopyTo(expect, r * n);
        }
        foreach (int offset in new[] { 0, 1, 5, 8, 15 })
        {
            // y is a view starting `offset` floats into a buffer with sentinels on both sides.
            using var buffer = Tensor.Full(backend, new Shape(rows * n + 32), 7.0);
            using var flat = buffer.Slice(0, offset, rows * n);
            using var y = flat.View(b, rows / b, n);
            backend.Attention.MaskedSoftmaxForward(xt, maskView, y);
            var all = buffer.ToArray<float>();
            Assert.That(all.AsSpan(0, offset).ToArray(), Has.All.EqualTo(7f), $"offset {offset}: before the output");
            Assert.That(all.AsSpan(offset + rows * n).ToArray(), Has.All.EqualTo(7f), $"offset {offset}: after the output");
            TensorAssert.Close(all.AsSpan(offset, rows * n).ToArray().Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, $"n = {n}, offset {offset}");
        }
    }

    // The AVX-512 rows read x and write y through raw pointers at the views' offsets: every row length
    // class (1 vector or less, exact vectors, partial last vector, long rows) with x and y starting at
    // offsets that are not multiples of a vector, a key mask with a fully masked jet, and logits near
    // ±float.MaxValue (the max shift must keep them finite; −MaxValue − MaxValue = −∞ must give 0).
    [TestCase(1)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(127)]
    [TestCase(128)]
    [TestCase(129)]
    [TestCase(300)]
    public void MaskedSoftmaxOffsetViewsAndExtremeLogitsMatchFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        const int b = 3, rows = 5;
        int count = b * rows * n;
        var x = Rand.Floats(300 + n, count, -30, 30);
        for (int i = 0; i < count; i += 7)   // extreme logits in even rows; odd rows keep ordinary ones
            if (i / n % 2 == 0) x[i] = (i / 7 % 3) switch { 0 => float.MaxValue, 1 => -float.MaxValue, _ => 1e30f };
        var keyMask = new float[b * n];
        for (int j = 0; j < n; j++)
        {
            keyMask[j] = j % 4 == 3 ? float.NegativeInfinity : 0;    // jet 0: scattered masked keys
            keyMask[n + j] = float.NegativeInfinity;                  // jet 1: fully masked
            keyMask[2 * n + j] = j < (n + 1) / 2 ? 0 : float.NegativeInfinity;   // jet 2: masked tail
        }
        var expect = new double[count];
        for (int r = 0; r < b * rows; r++) ReferenceRow(x, r * n, n, j => keyMask[r / rows * n + j]).CopyTo(expect, r * n);
        Assert.That(expect.All(double.IsFinite), Is.True, "reference finite");
        using var km = Tensor.FromArray<float>(backend, keyMask, new Shape(b, 1, n));
        foreach (var (xOffset, yOffset) in new[] { (0, 0), (1, 0), (0, 3), (5, 15), (15, 1), (16, 17) })
        {
            var xBuffer = new float[count + 32];
            x.CopyTo(xBuffer, xOffset);
            using var xAll = Tensor.FromArray<float>(backend, xBuffer, new Shape(count + 32));
            using var xFlat = xAll.Slice(0, xOffset, count);
            using var xt = xFlat.View(b, rows, n);
            using var maskView = km.Expand(xt.Shape);
            using var yAll = Tensor.Full(backend, new Shape(count + 32), 7.0);
            using var yFlat = yAll.Slice(0, yOffset, count);
            using var y = yFlat.View(b, rows, n);
            backend.Attention.MaskedSoftmaxForward(xt, maskView, y);
            var all = yAll.ToArray<float>();
            string at = $"n = {n}, x offset {xOffset}, y offset {yOffset}";
            Assert.That(all.AsSpan(0, yOffset).ToArray(), Has.All.EqualTo(7f), $"{at}: before the output");
            Assert.That(all.AsSpan(yOffset + count).ToArray(), Has.All.EqualTo(7f), $"{at}: after the output");
            var yv = all.AsSpan(yOffset, count).ToArray();
            Assert.That(yv.All(float.IsFinite), Is.True, $"{at}: finite");
            Assert.That(yv.AsSpan(rows * n, rows * n).ToArray(), Has.All.EqualTo(0f), $"{at}: fully masked jet");
            TensorAssert.Close(yv.Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, at);
        }
    }

    // The composite top-K (float32, K ≤ 16, two queries interleaved) on tie-heavy quantized points:
    // every K from 1 to 16, odd and even real-query counts per tile, padding scattered and at the end.
    [Test]
    public void KnnCompositeTopKMatchesExactReference([Values(1, 2, 7, 8, 9, 15, 16)] int k)
    {
        var backend = CpuBackend.Shared;
        // 3 jets run as (jet, query block) jobs; 9 (≥ 4 per core) as whole-jet jobs.
        foreach (int b in new[] { 3, 9 })
        {
            const int c = 2, n = 45;
            var pts = KnnKernelTests.Quantized(60 + k + b, b * c * n).Select(v => Math.Round(v * 16) / 16).ToArray();   // coarse grid: many ties
            var maskData = new double[b * n];
            for (int bi = 0; bi < b; bi++)
                for (int j = 0; j < n; j++)
                    maskData[bi * n + j] = (bi % 3) switch
                    {
                        0 => 1,                            // all real
                        1 => j % 5 == 3 ? 0 : 1,           // scattered padding (odd real counts per tile)
                        _ => j < 27 + bi ? 1 : 0,          // padding at the end
                    };
            using var points = Tensor.FromArray<float>(backend, pts.Select(v => (float)v).ToArray(), new Shape(b, c, n));
            using var mask = Tensor.FromArray<float>(backend, maskData.Select(v => (float)v).ToArray(), new Shape(b, n));
            using var idx = TensorOps.Knn(points, mask, k);
            Assert.That(idx.ToArray<int>(), Is.EqualTo(KnnKernelTests.ExactCoordShiftReference(pts, maskData, b, c, n, k)), $"B = {b}");
        }
    }

    // Non-finite coordinates: distances that are NaN or +∞ rank after the padded points, by index; a
    // query with such a coordinate takes the padded points, then the other real points, by index.
    // Composite (float32, K ≤ 16), register (float64) and multi-vector (float32, K = 20) paths.
    [TestCase(DType.Float32, 4)]
    [TestCase(DType.Float32, 16)]
    [TestCase(DType.Float32, 20)]
    [TestCase(DType.Float64, 5)]
    [TestCase(DType.Float64, 16)]
    public void KnnRanksNonFiniteDistancesAfterPaddedPoints(DType dtype, int k)
    {
        var backend = CpuBackend.Shared;
        const int b = 2, c = 3, n = 40;
        var pts = KnnKernelTests.Quantized(90 + k, b * c * n);
        var maskData = new double[b * n];
        for (int j = 0; j < n; j++)
        {
            maskData[j] = 1;
            maskData[n + j] = j % 4 == 1 ? 0 : 1;
        }
        pts[(0 * c + 1) * n + 5] = double.NaN;
        pts[(0 * c + 0) * n + 9] = double.PositiveInfinity;
        pts[(1 * c + 2) * n + 2] = double.NegativeInfinity;
        pts[(1 * c + 0) * n + 7] = double.NaN;
        pts[(1 * c + 1) * n + 13] = double.NaN;   // a padded slot: ignored
        bool Finite(int bi, int j) => Enumerable.Range(0, c).All(ch => double.IsFinite(pts[(bi * c + ch) * n + j]));
        using var points = dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, pts, new Shape(b, c, n))
            : Tensor.FromArray<float>(backend, pts.Select(v => (float)v).ToArray(), new Shape(b, c, n));
        using var mask = dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, maskData, new Shape(b, n))
            : Tensor.FromArray<float>(backend, maskData.Select(v => (float)v).ToArray(), new Shape(b, n));
        using var idx = TensorOps.Knn(points, mask, k);
        var got = idx.ToArray<int>();
        int checkedRows = 0;
        for (int bi = 0; bi < b; bi++)
        {
            for (int i = 0; i < n; i++)
            {
                if (maskData[bi * n + i] == 0) continue;
                var real = Enumerable.Range(0, n).Where(j => j != i && maskData[bi * n + j] != 0).ToList();
                var padded = Enumerable.Range(0, n).Where(j => maskData[bi * n + j] == 0);
                IEnumerable<int> expect;
                if (!Finite(bi, i)) expect = padded.Concat(real);
                else
                {
                    double Dist(int j) => Enumerable.Range(0, c).Sum(ch => Math.Pow(pts[(bi * c + ch) * n + i] - pts[(bi * c + ch) * n + j], 2));
                    var near = real.Where(j => Finite(bi, j)).OrderBy(Dist).ThenBy(j => j);
                    expect = near.Concat(padded).Concat(real.Where(j => !Finite(bi, j)));
                }
                Assert.That(got.AsSpan((bi * n + i) * k, k).ToArray(), Is.EqualTo(expect.Take(k).ToArray()), $"jet {bi}, query {i}");
                checkedRows++;
            }
        }
        Assert.That(checkedRows, Is.EqualTo(n + n - n / 4));
    }
}
