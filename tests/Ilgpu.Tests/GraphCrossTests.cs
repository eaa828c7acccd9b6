namespace Hep.Ilgpu.Tests;

/// <summary>
/// Graph kernels (kNN, EdgeConv gathers, scatter/segment reductions) on the ILGPU CPU accelerator vs
/// the CPU backend, forward and backward, with the edge cases: jets with fewer than k + 1 real
/// particles, a fully padded jet, zero-in-degree nodes, an empty edge set, sizes that are not
/// multiples of the group (4), candidate block (32) or channel block (32).
/// </summary>
public class GraphCrossTests
{
    private static (Tensor Cpu, Tensor Gpu) Indices(int[] values, Shape shape) =>
        (Tensor.FromArray<int>(Twin.Cpu, values, shape), Tensor.FromArray<int>(Twin.Gpu, values, shape));

    // Coordinates on a 1/64 grid in [−1, 1): every squared distance (C ≤ 40) is exact in float32, so ties are real ties.
    private static double[] Grid(int seed, int count) => Rand.Ints(seed, count, -64, 64).Select(v => v / 64.0).ToArray();

    [TestCase(DType.Float32, 3, 37, 7)]
    [TestCase(DType.Float64, 3, 37, 7)]
    [TestCase(DType.Float32, 40, 70, 16)]
    [TestCase(DType.Float64, 2, 33, 32)]
    public void KnnMatchesCpuWithPaddingAndTies(DType dtype, int c, int n, int k)
    {
        const int b = 5;
        // All real; fewer than k + 1 real; fully padded; scattered padding; one real particle.
        int[] realCounts = [n, Math.Min(k / 2 + 1, n), 0, -1, 1];
        var pts = Grid(101, b * c * n);
        var mask = new double[b * n];
        for (int bi = 0; bi < b; bi++)
            for (int j = 0; j < n; j++) mask[bi * n + j] = realCounts[bi] < 0 ? (j % 3 == 1 ? 0 : 1) : j < realCounts[bi] ? 1 : 0;
        // Padded slots hold garbage the kernels must ignore.
        for (int i = 0; i < b * n; i++)
            if (mask[i] == 0)
                for (int ch = 0; ch < c; ch++) pts[(i / n * c + ch) * n + i % n] = 7.25 + ch;
        var points = Twin.Pair(pts, new Shape(b, c, n), dtype);
        var m = Twin.Pair(mask, new Shape(b, n), dtype);
        using var ic = TensorOps.Knn(points.Cpu, m.Cpu, k);
        using var ig = TensorOps.Knn(points.Gpu, m.Gpu, k);
        Assert.That(ig.ToArray<int>(), Is.EqualTo(ic.ToArray<int>()), "masked kNN indices");
        using var nc = TensorOps.Knn(points.Cpu, null, k);
        using var ng = TensorOps.Knn(points.Gpu, null, k);
        Assert.That(ng.ToArray<int>(), Is.EqualTo(nc.ToArray<int>()), "unmasked kNN indices");
        Twin.Dispose(points, m);
    }

    // NaN and ±∞ coordinates (real and padded slots): non-finite distances rank after the padded points
    // by index, a query with a non-finite coordinate takes the padded points then the other real points,
    // padded queries rank NaN keys as +∞; every row (padded queries included) must equal the CPU's.
    [TestCase(DType.Float32, 4)]
    [TestCase(DType.Float32, 16)]
    [TestCase(DType.Float32, 20)]
    [TestCase(DType.Float64, 5)]
    [TestCase(DType.Float64, 16)]
    public void KnnRanksNonFiniteDistancesLikeCpu(DType dtype, int k)
    {
        const int b = 3, c = 3, n = 40;
        var pts = Grid(106 + k, b * c * n);
        var mask = new double[b * n];
        for (int j = 0; j < n; j++)
        {
            mask[j] = 1;
            mask[n + j] = j % 4 == 1 ? 0 : 1;
            mask[2 * n + j] = j < k / 2 ? 1 : 0;   // fewer than k + 1 real: non-finite and padded both reached
        }
        pts[(0 * c + 1) * n + 5] = double.NaN;
        pts[(0 * c + 0) * n + 9] = double.PositiveInfinity;
        pts[(1 * c + 2) * n + 2] = double.NegativeInfinity;
        pts[(1 * c + 0) * n + 7] = double.NaN;
        pts[(1 * c + 1) * n + 13] = double.NaN;   // a padded slot: ignored
        pts[(2 * c + 0) * n + 1] = double.NaN;
        pts[(2 * c + 2) * n + 0] = double.PositiveInfinity;
        var points = Twin.Pair(pts, new Shape(b, c, n), dtype);
        var m = Twin.Pair(mask, new Shape(b, n), dtype);
        using var ic = TensorOps.Knn(points.Cpu, m.Cpu, k);
        using var ig = TensorOps.Knn(points.Gpu, m.Gpu, k);
        var cpu = ic.ToArray<int>();
        Assert.That(ig.ToArray<int>(), Is.EqualTo(cpu), "masked kNN indices");
        // The CPU's rule itself, on jet 0 (all real): query 5 (NaN) lists the other points by index; query 0 never lists 5 or 9 before a finite point.
        Assert.That(cpu.AsSpan(5 * k, k).ToArray(), Is.EqualTo(Enumerable.Range(0, n).Where(j => j != 5).Take(k).ToArray()), "NaN query");
        Assert.That(cpu.AsSpan(0, k).ToArray(), Has.None.EqualTo(5).And.None.EqualTo(9), "non-finite candidates rank last");
        using var nc = TensorOps.Knn(points.Cpu, null, k);
        using var ng = TensorOps.Knn(points.Gpu, null, k);
        Assert.That(ng.ToArray<int>(), Is.EqualTo(nc.ToArray<int>()), "unmasked kNN indices");
        Twin.Dispose(points, m);
    }

    [Test]
    public void KnnOnContinuousHighDimensionalFeaturesFindsTheSameDistances()
    {
        // C = 64 continuous features: float32 rounding may swap near-equal neighbours, so compare distances.
        const int b = 2, c = 64, n = 45, k = 16;
        var pts = Rand.Doubles(102, b * c * n);
        var points = Twin.Pair(pts, new Shape(b, c, n), DType.Float32);
        using var ic = TensorOps.Knn(points.Cpu, null, k);
        using var ig = TensorOps.Knn(points.Gpu, null, k);
        var cpu = ic.ToArray<int>();
        var gpu = ig.ToArray<int>();
        int same = 0;
        for (int r = 0; r < b * n * k; r++)
        {
            int bi = r / (n * k), i = r / k % n;
            double Dist(int j) => Enumerable.Range(0, c).Sum(ch => Math.Pow(pts[(bi * c + ch) * n + i] - pts[(bi * c + ch) * n + j], 2));
            Assert.That(Dist(gpu[r]), Is.EqualTo(Dist(cpu[r])).Within(1e-5 * Dist(cpu[r])), $"row {r / k} rank {r % k}");
            if (gpu[r] == cpu[r]) same++;
        }
        Assert.That(same, Is.GreaterThan(0.97 * cpu.Length));
        Twin.Dispose(points);
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void EdgeGathersAndAdjointsMatchCpu(DType dtype)
    {
        // N = 37 (not a group multiple); indices drawn from the first 30 nodes, so nodes 30…36 have in-degree 0.
        const int b = 3, c = 5, n = 37, k = 6;
        var x = Twin.Random(103, new Shape(b, c, n), dtype);
        var nb = Twin.Random(104, new Shape(b, c, n), dtype);
        var idx = Indices(Rand.Ints(105, b * n * k, 0, 30), new Shape(b, n, k));
        var tol = Twin.Summed(dtype, 4 * k);

        using var gc = TensorOps.GatherNeighbors(x.Cpu, idx.Cpu);
        using var gg = TensorOps.GatherNeighbors(x.Gpu, idx.Gpu);
        Twin.Same(gc, gg, (0, 0), "GatherNeighbors");
        var dy = Twin.Random(106, gc.Shape, dtype);
        using var bc = TensorOps.GatherNeighborsBackward(dy.Cpu, idx.Cpu);
        using var bg = TensorOps.GatherNeighborsBackward(dy.Gpu, idx.Gpu);
        // Each node sums its inverse-index list in (n, k) order from zero, as the CPU backend's scatter: bitwise equal.
        Twin.Same(bc, bg, (0, 0), "GatherNeighborsBackward");
        using var bg2 = TensorOps.GatherNeighborsBackward(dy.Gpu, idx.Gpu);
        Assert.That(bg2.ToDoubleArray(), Is.EqualTo(bg.ToDoubleArray()), "deterministic run to run");
        Assert.That(bg.ToDoubleArray().Where((_, i) => i % n >= 30), Has.All.EqualTo(0.0), "zero in-degree nodes get no gradient");

        using var ec = TensorOps.EdgeFeatures(x.Cpu, idx.Cpu);
        using var eg = TensorOps.EdgeFeatures(x.Gpu, idx.Gpu);
        Twin.Same(ec, eg, (0, 0), "EdgeFeatures");
        var de = Twin.Random(107, ec.Shape, dtype);
        using var ebc = TensorOps.EdgeFeaturesBackward(de.Cpu, idx.Cpu);
        using var ebg = TensorOps.EdgeFeaturesBackward(de.Gpu, idx.Gpu);
        Twin.Same(ebc, ebg, tol, "EdgeFeaturesBackward");

        using var cc = TensorOps.NeighborCombine(x.Cpu, nb.Cpu, idx.Cpu);
        using var cg = TensorOps.NeighborCombine(x.Gpu, nb.Gpu, idx.Gpu);
        Twin.Same(cc, cg, (0, 0), "NeighborCombine");
        var (sc, nc) = TensorOps.NeighborCombineBackward(dy.Cpu, idx.Cpu);
        var (sg, ng) = TensorOps.NeighborCombineBackward(dy.Gpu, idx.Gpu);
        Twin.Same(sc, sg, tol, "NeighborCombineBackward self");
        Twin.Same(nc, ng, (0, 0), "NeighborCombineBackward neighbor");
        Twin.Dispose(x, nb, idx, dy, de, (sc, sg), (nc, ng));
    }

    [Test]
    public void EdgeGatherRejectsOutOfRangeIndices()
    {
        using var x = Tensor.Zeros(Twin.Gpu, new Shape(1, 2, 3));
        using var bad = Tensor.FromArray<int>(Twin.Gpu, [0, 1, 2, 3, 1, 0], new Shape(1, 3, 2));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.GatherNeighbors(x, bad))!.Message, Does.Contain("GatherNeighbors"));
        using var g = Tensor.Zeros(Twin.Gpu, new Shape(1, 2, 3, 2));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.GatherNeighborsBackward(g, bad))!.Message, Does.Contain("GatherNeighborsBackward"));
        using var src = Tensor.Zeros(Twin.Gpu, new Shape(2, 2));
        using var badSeg = Tensor.FromArray<int>(Twin.Gpu, [0, 2], new Shape(2));
        foreach (bool det in new[] { true, false })
            Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.ScatterAdd(src, badSeg, 2, det));
        // A valid launch after a failed one starts from a clean report.
        using var good = Tensor.FromArray<int>(Twin.Gpu, [0, 1, 2, 2, 1, 0], new Shape(1, 3, 2));
        using var y = TensorOps.GatherNeighbors(x, good);
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, 2, 3, 2)));
    }

    [TestCase(DType.Float32, 1000, 19, 57)]
    [TestCase(DType.Float64, 333, 7, 40)]
    [TestCase(DType.Float32, 5, 3, 9)]
    public void ScatterAddAndSegmentMeanMatchCpu(DType dtype, int e, int f, int v)
    {
        // Targets drawn from the even nodes only: every odd node has in-degree 0.
        var ids = Rand.Ints(108, e, 0, (v + 1) / 2).Select(i => 2 * i).ToArray();
        var src = Twin.Random(109, new Shape(e, f), dtype, -3, 3);
        var idx = Indices(ids, new Shape(e));
        var tol = Twin.Summed(dtype, e / Math.Max(v / 2, 1) + 1);
        using var dc = TensorOps.ScatterAdd(src.Cpu, idx.Cpu, v, deterministic: true);
        using var dg = TensorOps.ScatterAdd(src.Gpu, idx.Gpu, v, deterministic: true);
        // The sorted variant sums each column in edge order, exactly as the CPU backend: bitwise equal.
        Twin.Same(dc, dg, (0, 0), "ScatterAdd sorted");
        using var dg2 = TensorOps.ScatterAdd(src.Gpu, idx.Gpu, v, deterministic: true);
        Assert.That(dg2.ToDoubleArray(), Is.EqualTo(dg.ToDoubleArray()), "sorted variant is reproducible");
        using var ug = TensorOps.ScatterAdd(src.Gpu, idx.Gpu, v, deterministic: false);
        Twin.Same(dc, ug, tol, "ScatterAdd atomic");

        foreach (bool det in new[] { true, false })
        {
            using var mc = TensorOps.SegmentMean(src.Cpu, idx.Cpu, v, det, out var cc);
            using var mg = TensorOps.SegmentMean(src.Gpu, idx.Gpu, v, det, out var cg);
            Twin.Same(mc, mg, det ? (0, 0) : tol, $"SegmentMean deterministic={det}");
            Twin.Same(cc, cg, (0, 0), $"segment sizes deterministic={det}");
            var gy = Twin.Random(110, new Shape(v, f), dtype);
            using var sc = TensorOps.SegmentGather(gy.Cpu, idx.Cpu, cc);
            using var sg = TensorOps.SegmentGather(gy.Gpu, idx.Gpu, cg);
            Twin.Same(sc, sg, (0, 0), "SegmentGather / counts");
            using var pc = TensorOps.SegmentGather(gy.Cpu, idx.Cpu, null);
            using var pg = TensorOps.SegmentGather(gy.Gpu, idx.Gpu, null);
            Twin.Same(pc, pg, (0, 0), "SegmentGather");
            Twin.Dispose((cc, cg), gy);
        }
        Twin.Dispose(src, idx);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void EmptyEdgeSetGivesZerosEverywhere(bool deterministic)
    {
        using var src = Tensor.Zeros(Twin.Gpu, new Shape(0, 4));
        using var idx = Tensor.Zeros(Twin.Gpu, new Shape(0), DType.Int32);
        using var y = TensorOps.ScatterAdd(src, idx, 3, deterministic);
        Assert.That(y.ToDoubleArray(), Is.EqualTo(new double[12]));
        // The kernels overwrite their destination (the contract): garbage in y and counts must not survive.
        using var dirty = Tensor.Full(Twin.Gpu, new Shape(3, 4), 5.0);
        using var dirtyCounts = Tensor.Full(Twin.Gpu, new Shape(3), 5.0);
        Twin.Gpu.Graph.ScatterAdd(src, idx, dirty, deterministic);
        Assert.That(dirty.ToDoubleArray(), Is.EqualTo(new double[12]), "ScatterAdd overwrites");
        Twin.Gpu.Memory.Fill(dirty, 5.0);
        Twin.Gpu.Graph.SegmentMean(src, idx, dirty, dirtyCounts, deterministic);
        Assert.That(dirty.ToDoubleArray(), Is.EqualTo(new double[12]), "SegmentMean overwrites");
        Assert.That(dirtyCounts.ToDoubleArray(), Is.EqualTo(new double[3]), "counts overwritten");
        using var mean = TensorOps.SegmentMean(src, idx, 3, deterministic, out var counts);
        using (counts)
        {
            Assert.That(mean.ToDoubleArray(), Is.EqualTo(new double[12]));
            Assert.That(counts.ToDoubleArray(), Is.EqualTo(new double[3]));
        }
        using var g = Tensor.Full(Twin.Gpu, new Shape(3, 4), 1.0);
        using var back = TensorOps.SegmentGather(g, idx, null);
        Assert.That(back.Shape, Is.EqualTo(new Shape(0, 4)));
    }

    // Planned reductions: the ILGPU plan (atomic fill + per-segment sort) equals the CPU's stable
    // counting sort, and the planned sums are bitwise equal to the CPU's (and to the unplanned sorted
    // variant); odd nodes have in-degree 0, E is not a multiple of the group size.
    [TestCase(DType.Float32, 1000, 19, 57)]
    [TestCase(DType.Float64, 333, 7, 40)]
    [TestCase(DType.Float32, 0, 3, 9)]
    public void PlannedScatterAddAndSegmentMeanMatchCpu(DType dtype, int e, int f, int v)
    {
        var ids = Rand.Ints(111, e, 0, (v + 1) / 2).Select(i => 2 * i).ToArray();
        var src = Twin.Random(112, new Shape(e, f), dtype, -3, 3);
        var idx = Indices(ids, new Shape(e));
        using var pc = TensorOps.BuildSegmentPlan(idx.Cpu, v);
        using var pg = TensorOps.BuildSegmentPlan(idx.Gpu, v);
        Assert.That(pg.Offsets.ToArray<int>(), Is.EqualTo(pc.Offsets.ToArray<int>()), "plan offsets");
        Assert.That(pg.Order.ToArray<int>(), Is.EqualTo(pc.Order.ToArray<int>()), "plan order");
        using var yc = TensorOps.ScatterAdd(src.Cpu, pc);
        using var yg = TensorOps.ScatterAdd(src.Gpu, pg);
        Twin.Same(yc, yg, (0, 0), "planned ScatterAdd", allowAllZero: e == 0);
        using var sg = TensorOps.ScatterAdd(src.Gpu, idx.Gpu, v, deterministic: true);
        Assert.That(yg.ToDoubleArray(), Is.EqualTo(sg.ToDoubleArray()), "planned vs sorted ScatterAdd");
        using var mc = TensorOps.SegmentMean(src.Cpu, pc, out var cc);
        using var mg = TensorOps.SegmentMean(src.Gpu, pg, out var cg);
        Twin.Same(mc, mg, (0, 0), "planned SegmentMean", allowAllZero: e == 0);
        Twin.Same(cc, cg, (0, 0), "planned segment sizes", allowAllZero: e == 0);
        Twin.Dispose((cc, cg), src, idx);
    }

    [Test]
    public void PlanRejectsOutOfRangeIndices()
    {
        using var bad = Tensor.FromArray<int>(Twin.Gpu, [0, 3, 1], new Shape(3));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.BuildSegmentPlan(bad, 3).Dispose())!.Message, Does.Contain("BuildSegmentPlan"));
        using var good = Tensor.FromArray<int>(Twin.Gpu, [0, 2, 1], new Shape(3));
        using var plan = TensorOps.BuildSegmentPlan(good, 3);
        Assert.That(plan.Offsets.ToArray<int>(), Is.EqualTo(new[] { 0, 1, 2, 3 }));
    }
}
