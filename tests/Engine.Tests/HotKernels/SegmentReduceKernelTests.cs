namespace Hep.Engine.Tests.HotKernels;

/// <summary>Row scatter-add and segment mean (sorted and unordered variants) and their gather adjoint against host loops.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class SegmentReduceKernelTests(IBackend backend)
{
    private static double[] HostScatter(double[] src, int[] idx, int v, int f, bool mean)
    {
        var y = new double[v * f];
        var counts = new int[v];
        for (int e = 0; e < idx.Length; e++)
        {
            counts[idx[e]]++;
            for (int c = 0; c < f; c++) y[idx[e] * f + c] += src[e * f + c];
        }
        if (mean)
        {
            for (int n = 0; n < v; n++)
                for (int c = 0; c < f; c++) y[n * f + c] = counts[n] == 0 ? 0 : y[n * f + c] / counts[n];
        }
        return y;
    }

    // E = 9001 edges (two unordered workers on two cores, not a multiple of any width), F = 37, V = 1200
    // with the last 200 nodes never targeted (zero in-degree).
    [TestCase(true, false)]
    [TestCase(false, false)]
    [TestCase(true, true)]
    [TestCase(false, true)]
    public void MatchesHostLoops(bool deterministic, bool mean) => NotImplementedGuard.Run(backend, () =>
    {
        const int e = 9001, f = 37, v = 1200;
        var src = Rand.Doubles(21, e * f);
        var idx = Rand.Ints(22, e, 0, v - 200);
        using var source = Tensor.FromArray<float>(backend, Array.ConvertAll(src, x => (float)x), new Shape(e, f));
        using var index = Tensor.FromArray<int>(backend, idx, new Shape(e));
        using var y = mean ? TensorOps.SegmentMean(source, index, v, deterministic) : TensorOps.ScatterAdd(source, index, v, deterministic);
        Assert.That(y.Shape, Is.EqualTo(new Shape(v, f)));
        var expected = HostScatter(src, idx, v, f, mean);
        TensorAssert.Close(y, expected, 1e-4, 1e-4, mean ? "SegmentMean" : "ScatterAdd");
        var got = y.ToArray<float>();
        Assert.That(got.AsSpan((v - 200) * f).ToArray(), Has.All.EqualTo(0f), "zero-in-degree nodes");
    });

    [Test]
    public void SortedVariantIsBitwiseReproducibleAndUnorderedIsClose() => NotImplementedGuard.Run(backend, () =>
    {
        const int e = 20000, f = 16, v = 50;
        var src = Rand.Floats(23, e * f, -100, 100);
        using var source = Tensor.FromArray<float>(backend, src, new Shape(e, f));
        using var index = Tensor.FromArray<int>(backend, Rand.Ints(24, e, 0, v), new Shape(e));
        using var a = TensorOps.ScatterAdd(source, index, v, deterministic: true);
        using var b = TensorOps.ScatterAdd(source, index, v, deterministic: true);
        using var u = TensorOps.ScatterAdd(source, index, v, deterministic: false);
        Assert.That(b.ToArray<float>(), Is.EqualTo(a.ToArray<float>()), "sorted scatter-add differs between runs");
        // The unordered variant sums ~400 terms of ±100 per row in another order: documented nondetTol.
        TensorAssert.Close(u, a.ToDoubleArray(), atol: 0.05, rtol: 1e-4, "unordered vs sorted");
    });

    [TestCase(true)]
    [TestCase(false)]
    public void EmptyEdgeSetGivesZeros(bool deterministic) => NotImplementedGuard.Run(backend, () =>
    {
        using var source = Tensor.Zeros(backend, new Shape(0, 4));
        using var index = Tensor.Zeros(backend, new Shape(0), DType.Int32);
        using var y = TensorOps.ScatterAdd(source, index, 3, deterministic);
        using var m = TensorOps.SegmentMean(source, index, 3, deterministic);
        Assert.That(y.Shape, Is.EqualTo(new Shape(3, 4)));
        Assert.That(y.ToArray<float>(), Has.All.EqualTo(0f));
        Assert.That(m.ToArray<float>(), Has.All.EqualTo(0f));
        using var g = Tensor.Full(backend, new Shape(3, 4), 1.0);
        using var back = TensorOps.SegmentGather(g, index, null);
        Assert.That(back.Shape, Is.EqualTo(new Shape(0, 4)));
    });

    [Test]
    public void SegmentGatherIsTheAdjoint() => NotImplementedGuard.Run(backend, () =>
    {
        // <ScatterAdd(s), g> = <s, SegmentGather(g)>, and the mean variant divides by the segment sizes.
        const int e = 57, f = 3, v = 9;
        var src = Rand.Doubles(25, e * f);
        var idx = Rand.Ints(26, e, 0, v);
        var g = Rand.Doubles(27, v * f);
        using var source = Tensor.FromArray<double>(backend, src, new Shape(e, f));
        using var index = Tensor.FromArray<int>(backend, idx, new Shape(e));
        using var gy = Tensor.FromArray<double>(backend, g, new Shape(v, f));
        using var back = TensorOps.SegmentGather(gy, index, null);
        var expected = new double[e * f];
        for (int i = 0; i < e; i++)
            for (int c = 0; c < f; c++) expected[i * f + c] = g[idx[i] * f + c];
        TensorAssert.Close(back, expected, Tolerances.F64Atol, Tolerances.F64Rtol, "SegmentGather");

        using var mean = TensorOps.SegmentMean(source, index, v, true, out var counts);
        using (counts)
        {
            var cs = counts.ToArray<double>();
            for (int n = 0; n < v; n++) Assert.That(cs[n], Is.EqualTo(idx.Count(i => i == n)));
            using var backMean = TensorOps.SegmentGather(gy, index, counts);
            for (int i = 0; i < e; i++)
                for (int c = 0; c < f; c++) expected[i * f + c] = g[idx[i] * f + c] / cs[idx[i]];
            TensorAssert.Close(backMean, expected, Tolerances.F64Atol, Tolerances.F64Rtol, "SegmentGather / counts");
        }
    });

    // Outputs past the CPU streaming threshold (8 MB) take the non-temporal path: every destination
    // alignment (offset 0..lanes-1 elements into a larger buffer), E odd so the per-core chunks end mid-way.
    [TestCase(DType.Float32, 33_001, 64, 0)]
    [TestCase(DType.Float32, 33_001, 64, 3)]
    [TestCase(DType.Float32, 33_001, 64, 14)]
    [TestCase(DType.Float64, 16_501, 64, 5)]
    [TestCase(DType.Float64, 16_501, 64, 0)]
    public void LargeGatherWritesEveryRowAtAnyAlignment(DType dtype, int e, int f, int offset) => NotImplementedGuard.Run(backend, () =>
    {
        const int v = 3000;
        var g = Rand.Doubles(31, v * f);
        var idx = Rand.Ints(32, e, 0, v);
        using var gy = Upload(g, new Shape(v, f), dtype);
        using var index = Tensor.FromArray<int>(backend, idx, new Shape(e));
        var countOf = new double[v];
        foreach (int i in idx) countOf[i]++;
        for (int n = 0; n < v; n++) countOf[n] = Math.Max(countOf[n], 1);
        using var counts = Upload(countOf, new Shape(v), dtype);
        foreach (var c in new[] { null, counts })
        {
            using var flat = Tensor.Full(backend, new Shape(e * f + 32), 7.0, dtype);
            using var slice = flat.Slice(0, offset, e * f);
            using var dst = slice.View(e, f);
            backend.Graph.SegmentGather(gy, index, c, dst);
            var got = flat.ToDoubleArray();
            var gyT = gy.ToDoubleArray();
            for (int i = 0; i < offset; i++) Assert.That(got[i], Is.EqualTo(7.0), $"element {i} before the output was written");
            for (int i = offset + e * f; i < got.Length; i++) Assert.That(got[i], Is.EqualTo(7.0), $"element {i} after the output was written");
            for (int i = 0; i < e; i++)
            {
                for (int k = 0; k < f; k++)
                {
                    double want = c is null ? gyT[idx[i] * f + k]
                        : dtype == DType.Float32 ? (float)gyT[idx[i] * f + k] / (float)countOf[idx[i]] : gyT[idx[i] * f + k] / countOf[idx[i]];
                    double have = got[offset + i * f + k];
                    if (have != want) Assert.Fail($"SegmentGather{(c is null ? "" : " / counts")}: row {i} col {k}: {have} != {want}");
                }
            }
        }
    });

    // The HeteroNet size's row width with E not a multiple of any block, a skewed index (half the edges
    // into node 0, so the per-core node ranges must balance edges, not nodes), and zero in-degree nodes.
    [TestCase(true, false)]
    [TestCase(false, false)]
    [TestCase(true, true)]
    [TestCase(false, true)]
    public void SkewedIndexMatchesFloat64Reference(bool deterministic, bool mean) => NotImplementedGuard.Run(backend, () =>
    {
        const int e = 40_003, f = 64, v = 5000;
        var src = Rand.Doubles(33, e * f);
        var idx = Rand.Ints(34, e, 1, v - 100);
        for (int i = 0; i < e; i += 2) idx[i] = 0;
        using var source = Tensor.FromArray<float>(backend, Array.ConvertAll(src, x => (float)x), new Shape(e, f));
        using var index = Tensor.FromArray<int>(backend, idx, new Shape(e));
        using var y = mean ? TensorOps.SegmentMean(source, index, v, deterministic) : TensorOps.ScatterAdd(source, index, v, deterministic);
        var expected = HostScatter(Array.ConvertAll(src, x => (double)(float)x), idx, v, f, mean);
        // Node 0 sums ~20,000 terms of magnitude ≤ 1 in float32.
        TensorAssert.Close(y, expected, mean ? 1e-5 : 2e-2, 1e-5, mean ? "SegmentMean" : "ScatterAdd");
        Assert.That(y.ToArray<float>().AsSpan((v - 100) * f).ToArray(), Has.All.EqualTo(0f), "zero-in-degree nodes");
    });

    private Tensor Upload(double[] data, Shape shape, DType dtype) => dtype == DType.Float32
        ? Tensor.FromArray<float>(backend, Array.ConvertAll(data, x => (float)x), shape)
        : Tensor.FromArray<double>(backend, data, shape);

    [Test]
    public void TrailingFeatureDimsAreRows() => NotImplementedGuard.Run(backend, () =>
    {
        using var source = Tensor.FromArray<double>(backend, [1, 2, 3, 4, 5, 6, 7, 8], new Shape(2, 2, 2));
        using var index = Tensor.FromArray<int>(backend, [1, 1], new Shape(2));
        using var y = TensorOps.ScatterAdd(source, index, 2);
        Assert.That(y.Shape, Is.EqualTo(new Shape(2, 2, 2)));
        Assert.That(y.ToArray<double>(), Is.EqualTo(new double[] { 0, 0, 0, 0, 6, 8, 10, 12 }));
    });

    [Test]
    public void OutOfRangeTargetThrows() => NotImplementedGuard.Run(backend, () =>
    {
        using var source = Tensor.Zeros(backend, new Shape(2, 2));
        using var index = Tensor.FromArray<int>(backend, [0, 2], new Shape(2));
        using var good = Tensor.FromArray<int>(backend, [0, 1], new Shape(2));
        TensorOps.ScatterAdd(source, good, 2).Dispose();   // skipped here if the backend lacks the kernel
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.ScatterAdd(source, index, 2).Dispose());
        Assert.That(ex!.Message, Does.Contain("ScatterAdd"));
    });

    // Planned reductions (prebuilt CSR plan) against the unplanned sorted variant: bitwise equal, for
    // E = 9001 (not a multiple of any width) and E = 40,003 with a skewed index (the parallel counting
    // sort's chunks split node 0's edges), zero-in-degree nodes included.
    [TestCase(9001, 37, 1200, false)]
    [TestCase(40_003, 64, 5000, true)]
    public void PlannedMatchesSortedBitwise(int e, int f, int v, bool skewed) => NotImplementedGuard.Run(backend, () =>
    {
        var idx = Rand.Ints(41, e, 0, v - 100);
        if (skewed)
            for (int i = 0; i < e; i += 2) idx[i] = 0;
        using var source = Tensor.FromArray<float>(backend, Rand.Floats(42, e * f, -1, 1), new Shape(e, f));
        using var index = Tensor.FromArray<int>(backend, idx, new Shape(e));
        using var plan = TensorOps.BuildSegmentPlan(index, v);
        Assert.That((plan.Elements, plan.Segments), Is.EqualTo((e, v)));

        // The plan is the stable counting sort of the index.
        var offsets = new int[v + 1];
        foreach (int i in idx) offsets[i + 1]++;
        for (int n = 0; n < v; n++) offsets[n + 1] += offsets[n];
        var order = Enumerable.Range(0, e).OrderBy(i => idx[i]).ToArray();   // OrderBy is stable
        Assert.That(plan.Offsets.ToArray<int>(), Is.EqualTo(offsets), "plan offsets");
        Assert.That(plan.Order.ToArray<int>(), Is.EqualTo(order), "plan order");

        using var sorted = TensorOps.ScatterAdd(source, index, v, deterministic: true);
        using var planned = TensorOps.ScatterAdd(source, plan);
        Assert.That(planned.ToArray<float>(), Is.EqualTo(sorted.ToArray<float>()), "planned ScatterAdd");
        using var again = TensorOps.ScatterAdd(source, plan);
        Assert.That(again.ToArray<float>(), Is.EqualTo(planned.ToArray<float>()), "plan reused");
        Assert.That(planned.ToArray<float>().AsSpan((v - 100) * f).ToArray(), Has.All.EqualTo(0f), "zero-in-degree nodes");

        using var meanSorted = TensorOps.SegmentMean(source, index, v, true, out var countsSorted);
        using var meanPlanned = TensorOps.SegmentMean(source, plan, out var countsPlanned);
        using (countsSorted)
        using (countsPlanned)
        {
            Assert.That(meanPlanned.ToArray<float>(), Is.EqualTo(meanSorted.ToArray<float>()), "planned SegmentMean");
            Assert.That(countsPlanned.ToArray<float>(), Is.EqualTo(countsSorted.ToArray<float>()), "planned segment sizes");
        }
        TensorAssert.Close(planned, HostScatter(Array.ConvertAll(source.ToArray<float>(), x => (double)x), idx, v, f, false),
            skewed ? 2e-2 : 1e-4, 1e-5, "planned ScatterAdd vs float64 host loops");
    });

    [Test]
    public void PlannedEmptyEdgeSetGivesZeros() => NotImplementedGuard.Run(backend, () =>
    {
        using var source = Tensor.Zeros(backend, new Shape(0, 4));
        using var index = Tensor.Zeros(backend, new Shape(0), DType.Int32);
        using var plan = TensorOps.BuildSegmentPlan(index, 3);
        Assert.That(plan.Offsets.ToArray<int>(), Is.EqualTo(new int[4]));
        using var y = TensorOps.ScatterAdd(source, plan);
        using var m = TensorOps.SegmentMean(source, plan, out var counts);
        using (counts)
        {
            Assert.That(y.Shape, Is.EqualTo(new Shape(3, 4)));
            Assert.That(y.ToArray<float>(), Has.All.EqualTo(0f));
            Assert.That(m.ToArray<float>(), Has.All.EqualTo(0f));
            Assert.That(counts.ToArray<float>(), Has.All.EqualTo(0f));
        }
    });

    [Test]
    public void PlanRejectsBadIndicesAndMismatchedSources() => NotImplementedGuard.Run(backend, () =>
    {
        using var good = Tensor.FromArray<int>(backend, [0, 1, 1], new Shape(3));
        TensorOps.BuildSegmentPlan(good, 2).Dispose();   // skipped here if the backend lacks the kernel
        using var bad = Tensor.FromArray<int>(backend, [0, 2, 1], new Shape(3));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.BuildSegmentPlan(bad, 2).Dispose())!.Message, Does.Contain("BuildSegmentPlan"));
        using var negative = Tensor.FromArray<int>(backend, [0, -1, 1], new Shape(3));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.BuildSegmentPlan(negative, 2).Dispose())!.Message, Does.Contain("BuildSegmentPlan"));
        using var plan = TensorOps.BuildSegmentPlan(good, 2);
        using var wrong = Tensor.Zeros(backend, new Shape(4, 2));
        Assert.That(Assert.Throws<ArgumentException>(() => TensorOps.ScatterAdd(wrong, plan).Dispose())!.Message, Does.Contain("ScatterAdd"));
    });

    // Source rows at every alignment (offset 0..lanes − 1 elements into a larger buffer): rows that are
    // whole vectors but not 64-byte aligned take the CPU's aligned-load path. The sum of each node is
    // checked bitwise against a host loop adding the rows in edge order in the source precision.
    [TestCase(DType.Float32, 64, 16)]
    [TestCase(DType.Float32, 80, 16)]
    [TestCase(DType.Float64, 24, 8)]
    [TestCase(DType.Float64, 64, 8)]
    public void PlannedSumsAreExactAtEveryAlignment(DType dtype, int f, int lanes) => NotImplementedGuard.Run(backend, () =>
    {
        const int e = 3001, v = 400;
        var idx = Rand.Ints(51, e, 0, v - 7);
        var data = Rand.Doubles(52, e * f + 64);
        if (dtype == DType.Float32) data = Array.ConvertAll(data, x => (double)(float)x);
        using var index = Tensor.FromArray<int>(backend, idx, new Shape(e));
        using var plan = TensorOps.BuildSegmentPlan(index, v);
        using var flat = Upload(data, new Shape(e * f + 64), dtype);
        for (int offset = 0; offset < lanes; offset++)
        {
            using var slice = flat.Slice(0, offset, e * f);
            using var source = slice.View(e, f);
            using var y = TensorOps.ScatterAdd(source, plan);
            var got = y.ToDoubleArray();
            var s32 = new float[v * f];
            var s64 = new double[v * f];
            for (int i = 0; i < e; i++)
            {
                for (int c = 0; c < f; c++)
                {
                    s32[idx[i] * f + c] += (float)data[offset + i * f + c];
                    s64[idx[i] * f + c] += data[offset + i * f + c];
                }
            }
            for (int n = 0; n < v; n++)
            {
                for (int c = 0; c < f; c++)
                {
                    double want = dtype == DType.Float32 ? s32[n * f + c] : s64[n * f + c];
                    if (got[n * f + c] != want) Assert.Fail($"offset {offset}: node {n} col {c}: {got[n * f + c]} != {want}");
                }
            }
        }
    });
}
