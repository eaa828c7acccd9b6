namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// kNN against host references: an exact (decimal) evaluation of weaver's coord-shift rule on
/// coordinates that make ties frequent, and a float64 brute force on continuous high-dimensional points.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class KnnKernelTests(IBackend backend)
{
    /// <summary>
    /// Weaver's ParticleNet: points *= mask; knn(points + (mask == 0)·1e9), self dropped, ties to the
    /// lower index; evaluated exactly in decimal (coordinates are multiples of 1/1024, exact everywhere).
    /// </summary>
    internal static int[] ExactCoordShiftReference(double[] pts, double[]? mask, int b, int c, int n, int k)
    {
        var result = new int[b * n * k];
        for (int bi = 0; bi < b; bi++)
        {
            decimal Coord(int ch, int j) => mask is null || mask[bi * n + j] != 0 ? (decimal)pts[(bi * c + ch) * n + j] : 1_000_000_000m;
            for (int i = 0; i < n; i++)
            {
                var order = Enumerable.Range(0, n).Where(j => j != i)
                    .Select(j => (D: Enumerable.Range(0, c).Sum(ch => (Coord(ch, i) - Coord(ch, j)) * (Coord(ch, i) - Coord(ch, j))), J: j))
                    .OrderBy(t => t.D).ThenBy(t => t.J).Take(k).ToArray();
                for (int r = 0; r < k; r++) result[(bi * n + i) * k + r] = order[r].J;
            }
        }
        return result;
    }

    internal static double[] Quantized(int seed, int count) => Rand.Ints(seed, count, -511, 512).Select(v => v / 1024.0).ToArray();

    private Tensor Make(double[] data, Shape shape, DType dtype) => Operands.FromDoubles(backend, data, shape, dtype);

    [TestCase(DType.Float32, 3, 37, 5)]
    [TestCase(DType.Float64, 3, 37, 5)]
    [TestCase(DType.Float32, 2, 70, 16)]
    [TestCase(DType.Float32, 7, 19, 18)]
    public void MatchesExactCoordShiftReferenceIncludingPaddingAndTies(DType dtype, int c, int n, int k)
    {
        // Jets: all real; fewer than k + 1 real particles; fully padded; about half real.
        const int b = 4;
        int[] realCounts = [n, Math.Min(k / 2 + 1, n), 0, n / 2];
        var pts = Quantized(1, b * c * n);
        var maskData = new double[b * n];
        for (int bi = 0; bi < b; bi++)
            for (int j = 0; j < n; j++) maskData[bi * n + j] = j < realCounts[bi] ? 1 : 0;
        // Scatter the padding of the last jet through the slots instead of keeping it at the end.
        for (int j = 0; j < n; j++) maskData[3 * n + j] = (j * 7 % 3 == 0) ? 0 : 1;
        // Padded slots hold garbage coordinates: the kernel must ignore them like weaver's points *= mask.
        for (int bi = 0; bi < b; bi++)
            for (int j = 0; j < n; j++)
                if (maskData[bi * n + j] == 0)
                    for (int ch = 0; ch < c; ch++) pts[(bi * c + ch) * n + j] = 3.5 + ch;
        NotImplementedGuard.Run(backend, () =>
        {
            using var points = Make(pts, new Shape(b, c, n), dtype);
            using var mask = Make(maskData, new Shape(b, n), dtype);
            using var idx = TensorOps.Knn(points, mask, k);
            Assert.That(idx.Shape, Is.EqualTo(new Shape(b, n, k)));
            Assert.That(idx.DType, Is.EqualTo(DType.Int32));
            var expected = ExactCoordShiftReference(pts, maskData, b, c, n, k);
            Assert.That(idx.ToArray<int>(), Is.EqualTo(expected));
        });
    }

    [Test]
    public void WithoutMaskEveryPointIsReal()
    {
        const int b = 2, c = 2, n = 33, k = 8;
        var pts = Quantized(2, b * c * n);
        NotImplementedGuard.Run(backend, () =>
        {
            using var points = Make(pts, new Shape(b, c, n), DType.Float32);
            using var idx = TensorOps.Knn(points, null, k);
            Assert.That(idx.ToArray<int>(), Is.EqualTo(ExactCoordShiftReference(pts, null, b, c, n, k)));
        });
    }

    [TestCase(64, 50, 16)]
    [TestCase(128, 130, 32)]
    [TestCase(256, 41, 7)]
    public void HighDimensionalFeaturesMatchBruteForceDistances(int c, int n, int k)
    {
        // Later ParticleNet blocks use features as coordinates. Continuous values: compare the sorted
        // neighbour distances (recomputed in float64 from the returned indices) with the brute force.
        const int b = 2;
        var pts = Rand.Doubles(3, b * c * n);
        NotImplementedGuard.Run(backend, () =>
        {
            using var points = Make(pts, new Shape(b, c, n), DType.Float32);
            using var idx = TensorOps.Knn(points, null, k);
            var got = idx.ToArray<int>();
            int sameIndex = 0;
            for (int bi = 0; bi < b; bi++)
            {
                double Dist(int i, int j) => Enumerable.Range(0, c).Sum(ch => Math.Pow(pts[(bi * c + ch) * n + i] - pts[(bi * c + ch) * n + j], 2));
                for (int i = 0; i < n; i++)
                {
                    var expected = Enumerable.Range(0, n).Where(j => j != i).OrderBy(j => Dist(i, j)).ThenBy(j => j).Take(k).ToArray();
                    var row = got.AsSpan((bi * n + i) * k, k).ToArray();
                    Assert.That(row, Does.Not.Contain(i), $"jet {bi} query {i} lists itself");
                    Assert.That(row.Distinct().Count(), Is.EqualTo(k), $"jet {bi} query {i} repeats a neighbour");
                    for (int r = 0; r < k; r++)
                    {
                        double want = Dist(i, expected[r]), have = Dist(i, row[r]);
                        Assert.That(have, Is.EqualTo(want).Within(1e-4 * want + 1e-5), $"jet {bi} query {i} rank {r}");
                        if (row[r] == expected[r]) sameIndex++;
                    }
                }
            }
            // Float32 rounding may swap near-equal neighbours, not more than a few.
            Assert.That(sameIndex, Is.GreaterThan(0.97 * b * n * k));
        });
    }

    [Test]
    public void RejectsKOutOfRangeAndBadMask()
    {
        using var points = Tensor.Zeros(backend, new Shape(1, 2, 5));
        using var mask = Tensor.Zeros(backend, new Shape(1, 4));
        Assert.Throws<ArgumentException>(() => TensorOps.Knn(points, null, 5));
        Assert.Throws<ArgumentException>(() => TensorOps.Knn(points, null, 0));
        Assert.Throws<ArgumentException>(() => TensorOps.Knn(points, mask, 2));
    }
}
