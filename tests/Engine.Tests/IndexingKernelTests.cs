namespace Hep.Engine.Tests;

/// <summary>Gathers and their scatter-add adjoints, including duplicate indices and bounds errors.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class IndexingKernelTests(IBackend backend)
{
    [Test]
    public void IndexSelectAndIndexAddAreAdjoint()
    {
        var xd = Rand.Doubles(61, 2 * 5 * 3);
        using var x = Tensor.FromArray<double>(backend, xd, new Shape(2, 5, 3));
        using var idx = Tensor.FromArray<int>(backend, [4, 0, 4, 2], new Shape(4));
        using var y = TensorOps.IndexSelect(x, 1, idx);
        var yv = y.ToDoubleArray();
        int[] map = [4, 0, 4, 2];
        for (int o = 0; o < 2; o++)
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 3; i++)
                    Assert.That(yv[(o * 4 + j) * 3 + i], Is.EqualTo(xd[(o * 5 + map[j]) * 3 + i]));
        // <IndexSelect(x), g> == <x, IndexAdd(g)>
        var gd = Rand.Doubles(62, 24);
        using var g = Tensor.FromArray<double>(backend, gd, y.Shape);
        using var back = TensorOps.IndexAdd(g, 1, idx, x.Shape);
        double lhs = yv.Zip(gd, (p, q) => p * q).Sum();
        double rhs = xd.Zip(back.ToDoubleArray(), (p, q) => p * q).Sum();
        Assert.That(rhs, Is.EqualTo(lhs).Within(1e-12));
        Assert.That(back.ToDoubleArray()[(0 * 5 + 4) * 3 + 0], Is.EqualTo(gd[0] + gd[6]).Within(1e-15));
    }

    [TestCase(1, 3)]
    [TestCase(1, 1)]
    [TestCase(4, 1)]
    public void IndexSelectAndIndexAdd_ManyRows_MatchRowByRow(int outer, int width)
    {
        // (outer, 30,000, width) along axis 1 (the CPU kernel splits the rows of one slice across cores and
        // loops single-element rows directly): a permutation (distinct indices) and a map with duplicates,
        // each checked against a host loop.
        const int rows = 30_000;
        int slice = rows * width;
        var xd = Rand.Doubles(66, outer * slice);
        var gd = Rand.Doubles(67, outer * slice);
        var perm = Enumerable.Range(0, rows).OrderBy(i => (i * 7919L) % rows).ToArray();
        var dup = Enumerable.Range(0, rows).Select(i => i % 3 == 0 ? 5 : i).ToArray();
        using var x = Tensor.FromArray<double>(backend, xd, new Shape(outer, rows, width));
        using var g = Tensor.FromArray<double>(backend, gd, new Shape(outer, rows, width));
        foreach (var map in new[] { perm, dup })
        {
            using var idx = Tensor.FromArray<int>(backend, map, new Shape(rows));
            var y = TensorOps.IndexSelect(x, 1, idx).ToDoubleArray();
            var back = TensorOps.IndexAdd(g, 1, idx, x.Shape).ToDoubleArray();
            var expected = new double[outer * slice];
            for (int o = 0; o < outer; o++)
            {
                for (int j = 0; j < rows; j++)
                {
                    for (int i = 0; i < width; i++)
                    {
                        Assert.That(y[o * slice + j * width + i], Is.EqualTo(xd[o * slice + map[j] * width + i]), $"select row {j}");
                        expected[o * slice + map[j] * width + i] += gd[o * slice + j * width + i];
                    }
                }
            }
            Assert.That(back, Is.EqualTo(expected), map == perm ? "add, distinct indices" : "add, duplicates (accumulated in index order)");
        }
    }

    [Test]
    public void GatherAndScatterAddAreAdjoint()
    {
        // kNN-style: x (B=2, P=6, C=3) gathered along P with index (2, 4, 3).
        var xd = Rand.Doubles(63, 36);
        var id = Rand.Ints(64, 24, 0, 6);
        using var x = Tensor.FromArray<double>(backend, xd, new Shape(2, 6, 3));
        using var idx = Tensor.FromArray<int>(backend, id, new Shape(2, 4, 3));
        using var y = TensorOps.Gather(x, 1, idx);
        var yv = y.ToDoubleArray();
        for (int o = 0; o < 2; o++)
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 3; i++)
                    Assert.That(yv[(o * 4 + j) * 3 + i], Is.EqualTo(xd[(o * 6 + id[(o * 4 + j) * 3 + i]) * 3 + i]));
        var gd = Rand.Doubles(65, 24);
        using var g = Tensor.FromArray<double>(backend, gd, y.Shape);
        using var back = TensorOps.ScatterAdd(g, 1, idx, x.Shape);
        double lhs = yv.Zip(gd, (p, q) => p * q).Sum();
        double rhs = xd.Zip(back.ToDoubleArray(), (p, q) => p * q).Sum();
        Assert.That(rhs, Is.EqualTo(lhs).Within(1e-12));
    }

    [Test]
    public void OutOfRangeIndexThrowsNamingTheOp()
    {
        using var x = Tensor.Zeros(backend, new Shape(3, 2));
        using var bad = Tensor.FromArray<int>(backend, [0, 3], new Shape(2));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.IndexSelect(x, 0, bad));
        Assert.That(ex!.Message, Does.Contain("IndexSelect"));
        using var bad2 = Tensor.FromArray<int>(backend, [0, -1, 1, 2, 0, 1], new Shape(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.Gather(x, 0, bad2));
    }

    [Test]
    public void OneHotBuildsRows()
    {
        using var cls = Tensor.FromArray<int>(backend, [2, 0, 1], new Shape(3));
        using var oh = TensorOps.OneHot(cls, 3, DType.Float32);
        Assert.That(oh.ToArray<float>(), Is.EqualTo(new float[] { 0, 0, 1, 1, 0, 0, 0, 1, 0 }));
    }
}
