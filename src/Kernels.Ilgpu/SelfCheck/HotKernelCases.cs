using Comparison = Hep.Kernels.Ilgpu.SelfCheck.Comparison;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Self-check cases of the hot-path kernels (graph and attention families) against float64 host
/// loops: kNN on grid coordinates (exact distances, real ties) with weaver's padding rule, EdgeConv
/// gathers and adjoints, scatter-add / segment mean (both variants) and their gather, masked softmax,
/// and fused attention with pair bias (output, log-sum-exp, all four gradients via an explicit P).
/// Edge cases: fewer than k + 1 real particles, a fully padded jet, zero-in-degree nodes, fully masked rows.
/// </summary>
internal static class HotKernelCases
{
    private static double[] Seeded(int seed, int count, double low = -1, double high = 1)
    {
        var rng = new System.Random(seed);
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = low + (high - low) * rng.NextDouble();
        return v;
    }

    private static int[] SeededInts(int seed, int count, int high)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(0, high)).ToArray();
    }

    private static double[] Rounded(double[] v, DType dtype) => dtype == DType.Float32 ? v.Select(x => (double)(float)x).ToArray() : v;

    private static Tensor Upload(IBackend backend, double[] data, Shape shape, DType dtype) => dtype == DType.Float64
        ? Tensor.FromArray<double>(backend, data, shape)
        : Tensor.FromArray<float>(backend, Array.ConvertAll(data, v => (float)v), shape);

    private static Comparison Cmp(string label, Tensor actual, double[] expected, DType dtype, int terms = 1, bool allowZero = false)
    {
        double s = Math.Sqrt(Math.Max(terms, 1));
        double tol = dtype == DType.Float32 ? 2e-5 * s : 1e-10 * s;
        return new Comparison(label, actual.ToDoubleArray(), expected, tol, tol, allowZero);
    }

    public static IEnumerable<Comparison> Knn(IBackend b, DType dtype)
    {
        // Jets: all real, 3 real (< k + 1), fully padded, every third padded. Coordinates on a 1/64 grid.
        const int jets = 4, c = 3, n = 37, k = 7;
        var rng = new System.Random(31);
        var pts = Enumerable.Range(0, jets * c * n).Select(_ => rng.Next(-64, 64) / 64.0).ToArray();
        var mask = new double[jets * n];
        for (int j = 0; j < n; j++)
        {
            mask[j] = 1;
            mask[n + j] = j < 3 ? 1 : 0;
            mask[3 * n + j] = j % 3 == 1 ? 0 : 1;
        }
        var idx = TensorOps.Knn(Upload(b, pts, new Shape(jets, c, n), dtype), Upload(b, mask, new Shape(jets, n), dtype), k);
        var expected = new double[jets * n * k];
        for (int bi = 0; bi < jets; bi++)
        {
            bool Real(int j) => mask[bi * n + j] != 0;
            double P(int ch, int j) => pts[(bi * c + ch) * n + j];
            for (int i = 0; i < n; i++)
            {
                IEnumerable<int> order;
                var others = Enumerable.Range(0, n).Where(j => j != i);
                if (Real(i))
                {
                    double Dist(int j) => Enumerable.Range(0, c).Sum(ch => (P(ch, i) - P(ch, j)) * (P(ch, i) - P(ch, j)));
                    order = others.Where(Real).OrderBy(Dist).ThenBy(j => j).Concat(others.Where(j => !Real(j)));
                }
                else
                {
                    // Σ_c (1e9 − p_j,c)² up to the common C·1e18: ‖p_j‖² − 2e9·Σ_c p_j,c.
                    double Key(int j) => Enumerable.Range(0, c).Sum(ch => P(ch, j) * P(ch, j)) - 2e9 * Enumerable.Range(0, c).Sum(ch => P(ch, j));
                    order = others.Where(j => !Real(j)).Concat(others.Where(Real).OrderBy(Key).ThenBy(j => j));
                }
                var row = order.Take(k).ToArray();
                for (int r = 0; r < k; r++) expected[(bi * n + i) * k + r] = row[r];
            }
        }
        yield return new Comparison("kNN indices (padding, ties)", idx.ToDoubleArray(), expected, 0, 0);
    }

    public static IEnumerable<Comparison> EdgeGather(IBackend b, DType dtype)
    {
        // Indices from the first 15 of 19 nodes: nodes 15…18 have in-degree 0.
        const int bs = 2, c = 3, n = 19, k = 5, nk = n * k;
        var xd = Rounded(Seeded(32, bs * c * n), dtype);
        var sd = Rounded(Seeded(33, bs * c * n), dtype);
        var ids = SeededInts(34, bs * nk, 15);
        var x = Upload(b, xd, new Shape(bs, c, n), dtype);
        var index = Tensor.FromArray<int>(b, ids, new Shape(bs, n, k));
        var gather = new double[bs * c * nk];
        var edge = new double[bs * 2 * c * nk];
        var combine = new double[bs * c * nk];
        for (int bi = 0; bi < bs; bi++)
            for (int ch = 0; ch < c; ch++)
                for (int m = 0; m < nk; m++)
                {
                    int row = bi * c + ch, j = ids[bi * nk + m];
                    double xi = xd[row * n + m / k], xj = xd[row * n + j];
                    gather[row * nk + m] = xj;
                    edge[(bi * 2 * c + ch) * nk + m] = xi;
                    edge[(bi * 2 * c + c + ch) * nk + m] = xj - xi;
                    combine[row * nk + m] = sd[row * n + m / k] + xj;
                }
        yield return Cmp("GatherNeighbors", TensorOps.GatherNeighbors(x, index), gather, dtype);
        yield return Cmp("EdgeFeatures", TensorOps.EdgeFeatures(x, index), edge, dtype);
        yield return Cmp("NeighborCombine", TensorOps.NeighborCombine(Upload(b, sd, x.Shape, dtype), x, index), combine, dtype);
        var gd = Rounded(Seeded(35, bs * 2 * c * nk), dtype);
        var g1 = gd.Take(bs * c * nk).ToArray();
        var scatter = new double[bs * c * n];
        var self = new double[bs * c * n];
        var edgeBack = new double[bs * c * n];
        for (int bi = 0; bi < bs; bi++)
            for (int ch = 0; ch < c; ch++)
                for (int m = 0; m < nk; m++)
                {
                    int row = bi * c + ch, j = ids[bi * nk + m], i = m / k;
                    scatter[row * n + j] += g1[row * nk + m];
                    self[row * n + i] += g1[row * nk + m];
                    double ga = gd[(bi * 2 * c + ch) * nk + m], gb = gd[(bi * 2 * c + c + ch) * nk + m];
                    edgeBack[row * n + i] += ga - gb;
                    edgeBack[row * n + j] += gb;
                }
        var gy = Upload(b, g1, new Shape(bs, c, n, k), dtype);
        yield return Cmp("GatherNeighborsBackward", TensorOps.GatherNeighborsBackward(gy, index), scatter, dtype, 3 * k);
        yield return Cmp("EdgeFeaturesBackward", TensorOps.EdgeFeaturesBackward(Upload(b, gd, new Shape(bs, 2 * c, n, k), dtype), index), edgeBack, dtype, 6 * k);
        var (gs, gn) = TensorOps.NeighborCombineBackward(gy, index);
        yield return Cmp("NeighborCombineBackward self", gs, self, dtype, k);
        yield return Cmp("NeighborCombineBackward neighbor", gn, scatter, dtype, 3 * k);
    }

    public static IEnumerable<Comparison> Segments(IBackend b, DType dtype)
    {
        // 301 edges into the even nodes of 23 (odd nodes: in-degree 0), 13 features; then an empty edge set.
        const int e = 301, f = 13, v = 23;
        var sd = Rounded(Seeded(36, e * f, -3, 3), dtype);
        var ids = SeededInts(37, e, 12).Select(i => 2 * i).ToArray();
        var src = Upload(b, sd, new Shape(e, f), dtype);
        var index = Tensor.FromArray<int>(b, ids, new Shape(e));
        var sum = new double[v * f];
        var count = new double[v];
        for (int i = 0; i < e; i++)
        {
            count[ids[i]]++;
            for (int c = 0; c < f; c++) sum[ids[i] * f + c] += sd[i * f + c];
        }
        var mean = sum.Select((s, i) => count[i / f] == 0 ? 0 : s / count[i / f]).ToArray();
        foreach (bool det in new[] { true, false })
        {
            string kind = det ? "sorted" : "atomic";
            yield return Cmp($"ScatterAdd {kind}", TensorOps.ScatterAdd(src, index, v, det), sum, dtype, 30);
            var m = TensorOps.SegmentMean(src, index, v, det, out var counts);
            yield return Cmp($"SegmentMean {kind}", m, mean, dtype, 30);
            yield return Cmp($"segment sizes {kind}", counts, count, dtype);
            yield return Cmp($"ScatterAdd {kind}, no edges", TensorOps.ScatterAdd(Tensor.Zeros(b, new Shape(0, f), dtype),
                Tensor.Zeros(b, new Shape(0), DType.Int32), v, det), new double[v * f], dtype, allowZero: true);
        }
        var gd = Rounded(Seeded(38, v * f), dtype);
        var countsT = Upload(b, count, new Shape(v), dtype);
        var gy = Upload(b, gd, new Shape(v, f), dtype);
        var gathered = Enumerable.Range(0, e * f).Select(i => gd[ids[i / f] * f + i % f]).ToArray();
        yield return Cmp("SegmentGather", TensorOps.SegmentGather(gy, index, null), gathered, dtype);
        yield return Cmp("SegmentGather / counts", TensorOps.SegmentGather(gy, index, countsT), gathered.Select((g, i) => g / count[ids[i / f]]).ToArray(), dtype);
    }

    public static IEnumerable<Comparison> MaskedSoftmax(IBackend b, DType dtype)
    {
        foreach (int n in new[] { 7, 45 })
        {
            // x (2, 4, n) + key mask (2, 1, n): jet 1's first key masked, row 3 of jet 0 fully masked via a row mask.
            const int rows = 8;
            var xd = Rounded(Seeded(39, rows * n, -3, 3), dtype);
            xd[0] = 1234;
            var keyMask = new double[2 * n];
            keyMask[n] = double.NegativeInfinity;
            keyMask[2] = double.NegativeInfinity;
            var x = Upload(b, xd, new Shape(2, 4, n), dtype);
            var logits = new double[rows * n];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++) logits[r * n + j] = xd[r * n + j] + keyMask[r / 4 * n + j];
            var y = TensorOps.MaskedSoftmax(x, Upload(b, keyMask, new Shape(2, 1, n), dtype));
            var ey = HostReference.Softmax(logits, rows, n, log: false);
            yield return Cmp($"MaskedSoftmax n={n}", y, ey, dtype, n);
            var gd = Rounded(Seeded(40, rows * n), dtype);
            yield return Cmp($"MaskedSoftmaxBackward n={n}", TensorOps.MaskedSoftmaxBackward(y, Upload(b, gd, y.Shape, dtype)),
                HostReference.SoftmaxBackward(y.ToDoubleArray(), gd, rows, n, log: false), dtype, n);
            var rowMask = Enumerable.Range(0, rows).Select(r => r == 3 ? double.NegativeInfinity : 0).ToArray();
            var yr = TensorOps.MaskedSoftmax(x, Upload(b, rowMask, new Shape(2, 4, 1), dtype)).ToDoubleArray();
            bool zeros = yr.Skip(3 * n).Take(n).All(v => v == 0) && yr.All(double.IsFinite);
            yield return new Comparison($"fully masked row gives zeros n={n}", [zeros ? 1 : 0], [1], 0, 0);
        }
    }

    public static IEnumerable<Comparison> Attention(IBackend b, DType dtype)
    {
        // (B, H, Nq, Nk, D, bias): self-attention with bias and a fully padded jet; class attention Nq = 1.
        foreach (var (bs, h, nq, nk, d, withBias) in new[] { (2, 2, 13, 13, 16, true), (2, 3, 1, 37, 8, false) })
        {
            var qd = Rounded(Seeded(41, bs * h * nq * d, -2, 2), dtype);
            var kd = Rounded(Seeded(42, bs * h * nk * d, -2, 2), dtype);
            var vd = Rounded(Seeded(43, bs * h * nk * d), dtype);
            var ud = withBias ? Rounded(Seeded(44, bs * h * nq * nk, -2, 2), dtype) : null;
            // Jet 0: every third key padded; jet 1 of the biased case: fully padded.
            var md = Enumerable.Range(0, bs * nk).Select(i => i < nk ? (i % 3 == 2 ? 0.0 : 1.0) : withBias ? 0.0 : 1.0).ToArray();
            var gd = Rounded(Seeded(45, bs * h * nq * d), dtype);
            var q = Upload(b, qd, new Shape(bs, h, nq, d), dtype);
            var k = Upload(b, kd, new Shape(bs, h, nk, d), dtype);
            var v = Upload(b, vd, new Shape(bs, h, nk, d), dtype);
            var u = ud is null ? null : Upload(b, ud, new Shape(bs, h, nq, nk), dtype);
            var mask = Upload(b, md, new Shape(bs, nk), dtype);
            var output = TensorOps.Attention(q, k, v, u, mask, out var lse);
            var (gq, gk, gv, gu) = TensorOps.AttentionBackward(q, k, v, u, mask, output, lse, Upload(b, gd, output.Shape, dtype), withBias);
            var eo = new double[bs * h * nq * d];
            var el = new double[bs * h * nq];
            var egq = new double[eo.Length];
            var egk = new double[bs * h * nk * d];
            var egv = new double[egk.Length];
            var egu = new double[bs * h * nq * nk];
            double scale = 1 / Math.Sqrt(d);
            for (int bh = 0; bh < bs * h; bh++)
                for (int i = 0; i < nq; i++)
                {
                    int row = bh * nq + i;
                    var s = new double[nk];
                    for (int j = 0; j < nk; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += qd[row * d + c] * kd[(bh * nk + j) * d + c];
                        s[j] = dot * scale + (ud?[row * nk + j] ?? 0) + (md[bh / h * nk + j] != 0 ? 0 : double.NegativeInfinity);
                    }
                    double max = s.Max();
                    if (double.IsNegativeInfinity(max))
                    {
                        el[row] = double.NegativeInfinity;
                        continue;
                    }
                    double z = s.Sum(x => Math.Exp(x - max));
                    el[row] = max + Math.Log(z);
                    var p = s.Select(x => Math.Exp(x - max) / z).ToArray();
                    var dp = new double[nk];
                    for (int j = 0; j < nk; j++)
                        for (int c = 0; c < d; c++)
                        {
                            eo[row * d + c] += p[j] * vd[(bh * nk + j) * d + c];
                            dp[j] += gd[row * d + c] * vd[(bh * nk + j) * d + c];
                            egv[(bh * nk + j) * d + c] += p[j] * gd[row * d + c];
                        }
                    double delta = Enumerable.Range(0, nk).Sum(j => p[j] * dp[j]);
                    for (int j = 0; j < nk; j++)
                    {
                        double ds = p[j] * (dp[j] - delta);
                        egu[row * nk + j] = ds;
                        for (int c = 0; c < d; c++)
                        {
                            egq[row * d + c] += scale * ds * kd[(bh * nk + j) * d + c];
                            egk[(bh * nk + j) * d + c] += scale * ds * qd[row * d + c];
                        }
                    }
                }
            string label = $"({bs},{h},{nq},{nk},{d}{(withBias ? ", bias" : "")})";
            yield return Cmp($"attention output {label}", output, eo, dtype, nk);
            yield return Cmp($"attention lse {label}", lse, el, dtype, nk);
            yield return Cmp($"attention gradQ {label}", gq, egq, dtype, nk * d);
            yield return Cmp($"attention gradK {label}", gk, egk, dtype, nq * d);
            yield return Cmp($"attention gradV {label}", gv, egv, dtype, nq);
            if (gu is not null) yield return Cmp($"attention gradBias {label}", gu, egu, dtype, d);
        }
    }
}
