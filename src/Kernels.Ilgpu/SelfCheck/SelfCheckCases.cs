using Comparison = Hep.Kernels.Ilgpu.SelfCheck.Comparison;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// The checks run by <see cref="SelfCheck"/>: each builds seeded inputs, runs the device kernels
/// through the engine's public ops, and yields comparisons with <see cref="HostReference"/> values.
/// Sizes include 1-element edges, non-multiples of group and warp sizes, broadcasts and strided views.
/// </summary>
internal static class SelfCheckCases
{
    private static double[] Seeded(int seed, int count, double low = -1, double high = 1)
    {
        var rng = new System.Random(seed);
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = low + (high - low) * rng.NextDouble();
        return v;
    }

    // Host values as the device holds them (rounded to float for float32).
    private static double[] Rounded(double[] v, DType dtype) => dtype == DType.Float32 ? v.Select(x => (double)(float)x).ToArray() : v;

    private static Tensor Upload(IBackend backend, double[] data, Shape shape, DType dtype) => dtype == DType.Float64
        ? Tensor.FromArray<double>(backend, data, shape)
        : Tensor.FromArray<float>(backend, Array.ConvertAll(data, v => (float)v), shape);

    /// <summary>Elementwise tolerance; <paramref name="terms"/> widens it like √terms for sums.</summary>
    private static Comparison Cmp(string label, Tensor actual, double[] expected, DType dtype, int terms = 1)
    {
        double s = Math.Sqrt(Math.Max(terms, 1));
        double tol = dtype == DType.Float32 ? 2e-5 * s : 1e-10 * s;
        return new Comparison(label, actual.ToDoubleArray(), expected, tol, tol);
    }

    public static IEnumerable<Comparison> Unary(IBackend b, UnaryOp op, DType dtype)
    {
        int n = 1037;
        bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal;
        var (alpha, beta) = op switch
        {
            UnaryOp.AddScalar => (0.75, 0.0), UnaryOp.MulScalar => (-1.5, 0.0), UnaryOp.PowScalar => (1.7, 0.0), UnaryOp.Clamp => (-0.3, 0.4), _ => (0.0, 0.0),
        };
        var data = Seeded(1, n, positive ? 0.2 : -4, 4);
        for (int i = 0; i < n; i++)
        {
            foreach (var kink in new[] { 0.0, alpha, beta })
                if (Math.Abs(data[i] - kink) < 1e-3) data[i] += 0.01;
        }
        var xr = Rounded(data, dtype);
        var gr = Rounded(Seeded(2, n), dtype);
        var x = Upload(b, xr, new Shape(n), dtype);
        var g = Upload(b, gr, new Shape(n), dtype);
        var y = TensorOps.Unary(op, x, alpha, beta);
        yield return Cmp($"{op}", y, xr.Select(v => HostReference.Unary(op, v, alpha, beta)).ToArray(), dtype);
        var gx = TensorOps.UnaryBackward(op, x, y, g, alpha, beta);
        yield return Cmp($"{op}Backward", gx, xr.Select((v, i) => gr[i] * HostReference.Derivative(op, v, alpha, beta)).ToArray(), dtype);
    }

    public static IEnumerable<Comparison> Binary(IBackend b, BinaryOp op, DType dtype)
    {
        // a: (3, 1, 37) permuted from (37, 1, 3); c: (5, 1) → y (3, 5, 37).
        var ad = Rounded(Seeded(3, 111, 0.5, 2), dtype);
        var cd = Rounded(Seeded(4, 5, 0.5, 2), dtype);
        cd[1] = ad[0];
        var aBase = Upload(b, ad, new Shape(37, 1, 3), dtype);
        var a = aBase.Permute(2, 1, 0);
        var c = Upload(b, cd, new Shape(5, 1), dtype);
        var y = TensorOps.Binary(op, a, c);
        var expected = new double[3 * 5 * 37];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++)
                for (int k = 0; k < 37; k++) expected[(i * 5 + j) * 37 + k] = HostReference.Binary(op, ad[k * 3 + i], cd[j]);
        yield return Cmp($"{op} broadcast", y, expected, dtype);
    }

    public static IEnumerable<Comparison> Where(IBackend b, DType dtype)
    {
        var cond = Seeded(5, 17).Select(v => v > 0 ? 1.0 : 0.0).ToArray();
        var ad = Rounded(Seeded(6, 3), dtype);
        var bd = Rounded(Seeded(7, 51), dtype);
        var bt = Upload(b, bd, new Shape(17, 3), dtype).Transpose(0, 1);
        var y = TensorOps.Where(Upload(b, cond, new Shape(17), dtype), Upload(b, ad, new Shape(3, 1), dtype), bt);
        var expected = new double[51];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 17; j++) expected[i * 17 + j] = cond[j] != 0 ? ad[i] : bd[j * 3 + i];
        yield return Cmp("Where", y, expected, dtype);
    }

    public static IEnumerable<Comparison> Reduce(IBackend b, DType dtype)
    {
        foreach (var dims in new[] { new[] { 3, 37, 70 }, new[] { 2, 300 } })
        {
            var data = Rounded(Seeded(8, dims.Aggregate(1, (p, d) => p * d), -2, 3), dtype);
            var x = Upload(b, data, new Shape(dims), dtype);
            for (int axis = 0; axis < dims.Length; axis++)
            {
                int outer = dims.Take(axis).Aggregate(1, (p, d) => p * d), n = dims[axis], inner = dims.Skip(axis + 1).Aggregate(1, (p, d) => p * d);
                foreach (var op in Enum.GetValues<ReduceOp>())
                    yield return Cmp($"{op} axis {axis} of ({string.Join(",", dims)})", TensorOps.Reduce(op, x, axis), HostReference.Reduce(op, data, outer, n, inner), dtype, n);
                var arg = TensorOps.ArgMax(x, axis);
                yield return new Comparison($"ArgMax axis {axis}", arg.ToDoubleArray(), HostReference.ArgMax(data, outer, n, inner).Select(v => (double)v).ToArray(), 0, 0);
            }
        }
    }

    public static IEnumerable<Comparison> MatMul(IBackend b, DType dtype)
    {
        foreach (var (batch, m, k, n) in new[] { (1, 1, 1, 1), (2, 65, 70, 33), (1, 17, 300, 15) })
        {
            var ad = Rounded(Seeded(9, batch * m * k), dtype);
            var bd = Rounded(Seeded(10, batch * k * n), dtype);
            var c = TensorOps.MatMul(Upload(b, ad, new Shape(batch, m, k), dtype), Upload(b, bd, new Shape(batch, k, n), dtype));
            yield return Cmp($"{batch}x{m}x{k}x{n}", c, HostReference.MatMul(ad, bd, batch, m, k, n, false), dtype, k);
        }
        // Transposed a, transposed b broadcast over the batch, then accumulate c += a·b.
        int bt = 3, mm = 19, kk = 37, nn = 45;
        var araw = Rounded(Seeded(11, bt * kk * mm), dtype);
        var braw = Rounded(Seeded(12, nn * kk), dtype);
        var a = Upload(b, araw, new Shape(bt, kk, mm), dtype).Transpose(1, 2);
        var bb = Upload(b, braw, new Shape(nn, kk), dtype).Transpose(0, 1);
        var aDense = new double[bt * mm * kk];
        for (int i = 0; i < bt; i++)
            for (int r = 0; r < mm; r++)
                for (int p = 0; p < kk; p++) aDense[(i * mm + r) * kk + p] = araw[(i * kk + p) * mm + r];
        var bDense = new double[kk * nn];
        for (int p = 0; p < kk; p++)
            for (int j = 0; j < nn; j++) bDense[p * nn + j] = braw[j * kk + p];
        var expected = HostReference.MatMul(aDense, bDense, bt, mm, kk, nn, bShared: true);
        yield return Cmp("transposed, broadcast batch", TensorOps.MatMul(a, bb), expected, dtype, kk);
        var acc = Tensor.Full(b, new Shape(bt, mm, nn), 1.0, dtype);
        TensorOps.MatMulAccumulate(a, bb.Unsqueeze(0).Expand(new Shape(bt, kk, nn)), acc);
        yield return Cmp("accumulate", acc, expected.Select(v => v + 1).ToArray(), dtype, kk);
    }

    public static IEnumerable<Comparison> Softmax(IBackend b, DType dtype)
    {
        foreach (int n in new[] { 1, 5, 300 })
        {
            int rows = 6;
            var data = Rounded(Seeded(13, rows * n, -3, 3), dtype);
            for (int i = 0; i < n; i++) data[2 * n + i] = double.NegativeInfinity;
            var gd = Rounded(Seeded(14, rows * n), dtype);
            var x = Upload(b, data, new Shape(rows, n), dtype);
            var g = Upload(b, gd, new Shape(rows, n), dtype);
            foreach (bool log in new[] { false, true })
            {
                var y = TensorOps.Softmax(x, -1, log);
                var ey = HostReference.Softmax(data, rows, n, log);
                yield return Cmp($"{(log ? "log-" : "")}softmax n={n}", y, ey, dtype, n);
                var yd = y.ToDoubleArray();
                // Rows of one element have a zero softmax gradient (allowed, not degenerate).
                yield return Cmp($"{(log ? "log-" : "")}softmax backward n={n}", TensorOps.SoftmaxBackward(y, g, -1, log),
                    HostReference.SoftmaxBackward(yd, gd, rows, n, log), dtype, n) with { AllowZero = n == 1 };
            }
        }
    }

    public static IEnumerable<Comparison> LayerNorm(IBackend b, DType dtype)
    {
        foreach (int n in new[] { 33, 300 })
        {
            int rows = 9;
            const double eps = 1e-5;
            var xd = Rounded(Seeded(15, rows * n, -2, 5), dtype);
            var gam = Rounded(Seeded(16, n, 0.5, 1.5), dtype);
            var bet = Rounded(Seeded(17, n), dtype);
            var gd = Rounded(Seeded(18, rows * n), dtype);
            var x = Upload(b, xd, new Shape(rows, n), dtype);
            var gamma = Upload(b, gam, new Shape(n), dtype);
            var y = Tensor.Zeros(b, x.Shape, dtype);
            var mean = Tensor.Zeros(b, new Shape(rows), dtype);
            var rstd = Tensor.Zeros(b, new Shape(rows), dtype);
            b.Norm.LayerNormForward(x, gamma, Upload(b, bet, new Shape(n), dtype), eps, y, mean, rstd);
            var gx = Tensor.Zeros(b, x.Shape, dtype);
            var dg = Tensor.Zeros(b, new Shape(n), dtype);
            var db = Tensor.Zeros(b, new Shape(n), dtype);
            b.Norm.LayerNormBackward(x, gamma, mean, rstd, Upload(b, gd, x.Shape, dtype), gx, dg, db);
            var ey = new double[rows * n];
            var egx = new double[rows * n];
            var edg = new double[n];
            var edb = new double[n];
            for (int r = 0; r < rows; r++)
            {
                var row = xd.Skip(r * n).Take(n).ToArray();
                double mu = row.Average(), inv = 1 / Math.Sqrt(row.Select(v => (v - mu) * (v - mu)).Average() + eps);
                var xhat = row.Select(v => (v - mu) * inv).ToArray();
                var ghat = Enumerable.Range(0, n).Select(i => gd[r * n + i] * gam[i]).ToArray();
                double meanG = ghat.Average(), meanGX = ghat.Zip(xhat, (p, q) => p * q).Average();
                for (int i = 0; i < n; i++)
                {
                    ey[r * n + i] = xhat[i] * gam[i] + bet[i];
                    egx[r * n + i] = inv * (ghat[i] - meanG - xhat[i] * meanGX);
                    edg[i] += gd[r * n + i] * xhat[i];
                    edb[i] += gd[r * n + i];
                }
            }
            yield return Cmp($"layernorm y n={n}", y, ey, dtype, n);
            yield return Cmp($"layernorm gradX n={n}", gx, egx, dtype, n);
            yield return Cmp($"layernorm gradGamma n={n}", dg, edg, dtype, rows);
            yield return Cmp($"layernorm gradBeta n={n}", db, edb, dtype, rows);
        }
    }

    public static IEnumerable<Comparison> BatchNorm(IBackend b, DType dtype)
    {
        foreach (var (bs, c, l) in new[] { (5, 4, 1), (3, 4, 17) })
        {
            var shape = l == 1 ? new Shape(bs, c) : new Shape(bs, c, l);
            var xd = Rounded(Seeded(19, bs * c * l, -1, 3), dtype);
            var gd = Rounded(Seeded(20, bs * c * l), dtype);
            var gam = Rounded(Seeded(21, c, 0.5, 1.5), dtype);
            var sh = Rounded(Seeded(22, c), dtype);
            var x = Upload(b, xd, shape, dtype);
            var mean = Tensor.Zeros(b, new Shape(c), dtype);
            var variance = Tensor.Zeros(b, new Shape(c), dtype);
            b.Norm.ChannelMoments(x, mean, variance);
            var em = new double[c];
            var ev = new double[c];
            var vals = new List<double>[c];
            for (int ch = 0; ch < c; ch++)
            {
                vals[ch] = [];
                for (int i = 0; i < bs; i++)
                    for (int k = 0; k < l; k++) vals[ch].Add(xd[(i * c + ch) * l + k]);
                em[ch] = vals[ch].Average();
                ev[ch] = vals[ch].Select(v => (v - em[ch]) * (v - em[ch])).Average();
            }
            yield return Cmp($"moments mean ({bs},{c},{l})", mean, em, dtype, bs * l);
            yield return Cmp($"moments variance ({bs},{c},{l})", variance, ev, dtype, bs * l);
            var gamma = Upload(b, gam, new Shape(c), dtype);
            var y = Tensor.Zeros(b, shape, dtype);
            b.Norm.ChannelAffine(x, gamma, Upload(b, sh, new Shape(c), dtype), y);
            yield return Cmp($"affine ({bs},{c},{l})", y, xd.Select((v, i) => v * gam[i / l % c] + sh[i / l % c]).ToArray(), dtype);
            // invStd from the exact moments; backward in training mode with γ.
            var istd = ev.Select(v => 1 / Math.Sqrt(v + 1e-5)).ToArray();
            var istdR = Rounded(istd, dtype);
            var gx = Tensor.Zeros(b, shape, dtype);
            var dg = Tensor.Zeros(b, new Shape(c), dtype);
            var db = Tensor.Zeros(b, new Shape(c), dtype);
            b.Norm.BatchNormBackward(x, Upload(b, Rounded(em, dtype), new Shape(c), dtype), Upload(b, istdR, new Shape(c), dtype), gamma,
                Upload(b, gd, shape, dtype), true, gx, dg, db);
            var emR = Rounded(em, dtype);
            var egx = new double[xd.Length];
            var edg = new double[c];
            var edb = new double[c];
            for (int ch = 0; ch < c; ch++)
            {
                double sumG = 0, sumGX = 0;
                for (int i = 0; i < bs; i++)
                    for (int k = 0; k < l; k++)
                    {
                        int at = (i * c + ch) * l + k;
                        sumG += gd[at];
                        sumGX += gd[at] * (xd[at] - emR[ch]) * istdR[ch];
                    }
                double cnt = bs * l;
                for (int i = 0; i < bs; i++)
                    for (int k = 0; k < l; k++)
                    {
                        int at = (i * c + ch) * l + k;
                        double xhat = (xd[at] - emR[ch]) * istdR[ch];
                        egx[at] = gam[ch] * istdR[ch] * (gd[at] - sumG / cnt - xhat * sumGX / cnt);
                    }
                edg[ch] = sumGX;
                edb[ch] = sumG;
            }
            yield return Cmp($"batchnorm gradX ({bs},{c},{l})", gx, egx, dtype, bs * l);
            yield return Cmp($"batchnorm gradGamma ({bs},{c},{l})", dg, edg, dtype, bs * l);
            yield return Cmp($"batchnorm gradBeta ({bs},{c},{l})", db, edb, dtype, bs * l);
        }
    }

    public static IEnumerable<Comparison> Indexing(IBackend b, DType dtype)
    {
        int[] dims = [3, 17, 5];
        var xd = Rounded(Seeded(23, 3 * 17 * 5), dtype);
        var x = Upload(b, xd, new Shape(dims), dtype);
        var rng = new System.Random(24);
        var ids = Enumerable.Range(0, 23).Select(_ => rng.Next(0, 17)).ToArray();
        ids[1] = ids[0]; // a duplicate
        var index = Tensor.FromArray<int>(b, ids, new Shape(23));
        var sel = TensorOps.IndexSelect(x, 1, index);
        var esel = new double[3 * 23 * 5];
        for (int o = 0; o < 3; o++)
            for (int j = 0; j < 23; j++)
                for (int i = 0; i < 5; i++) esel[(o * 23 + j) * 5 + i] = xd[(o * 17 + ids[j]) * 5 + i];
        yield return Cmp("IndexSelect", sel, esel, dtype);
        var gd = Rounded(Seeded(25, 3 * 23 * 5), dtype);
        var add = TensorOps.IndexAdd(Upload(b, gd, sel.Shape, dtype), 1, index, x.Shape);
        var eadd = new double[xd.Length];
        for (int o = 0; o < 3; o++)
            for (int j = 0; j < 23; j++)
                for (int i = 0; i < 5; i++) eadd[(o * 17 + ids[j]) * 5 + i] += gd[(o * 23 + j) * 5 + i];
        yield return Cmp("IndexAdd", add, eadd, dtype, 4);
        // Gather / ScatterAdd along axis 1 with an index of shape (3, 7, 5).
        var gids = Enumerable.Range(0, 3 * 7 * 5).Select(_ => rng.Next(0, 17)).ToArray();
        var gindex = Tensor.FromArray<int>(b, gids, new Shape(3, 7, 5));
        var gat = TensorOps.Gather(x, 1, gindex);
        var egat = new double[gids.Length];
        for (int o = 0; o < 3; o++)
            for (int j = 0; j < 7; j++)
                for (int i = 0; i < 5; i++) egat[(o * 7 + j) * 5 + i] = xd[(o * 17 + gids[(o * 7 + j) * 5 + i]) * 5 + i];
        yield return Cmp("Gather", gat, egat, dtype);
        var sd = Rounded(Seeded(26, gids.Length), dtype);
        var sc = TensorOps.ScatterAdd(Upload(b, sd, gindex.Shape, dtype), 1, gindex, x.Shape);
        var esc = new double[xd.Length];
        for (int o = 0; o < 3; o++)
            for (int j = 0; j < 7; j++)
                for (int i = 0; i < 5; i++) esc[(o * 17 + gids[(o * 7 + j) * 5 + i]) * 5 + i] += sd[(o * 7 + j) * 5 + i];
        yield return Cmp("ScatterAdd", sc, esc, dtype, 4);
        bool threw = false;
        try
        {
            TensorOps.IndexSelect(x, 1, Tensor.FromArray<int>(b, [0, 17], new Shape(2)));
        }
        catch (ArgumentOutOfRangeException e) when (e.Message.Contains("IndexSelect", StringComparison.Ordinal))
        {
            threw = true;
        }
        yield return new Comparison("out-of-range index throws", [threw ? 1 : 0], [1], 0, 0);
    }

    public static IEnumerable<Comparison> Random(IBackend b, DType dtype)
    {
        int n = 10_007;
        const ulong seed = 987654321;
        var mask = Tensor.Zeros(b, new Shape(n), dtype);
        b.Random.DropoutMask(seed, 0.3, mask);
        double keep = 1 / (1 - 0.3);
        var expected = Enumerable.Range(0, n).Select(i => CounterRng.Uniform(seed, i) >= 0.3 ? keep : 0).ToArray();
        yield return new Comparison("dropout mask (bit-identical)", mask.ToDoubleArray(), Rounded(expected, dtype), 0, 0);
        var u = Tensor.Zeros(b, new Shape(n), dtype);
        b.Random.Uniform(11, -2, 3, u);
        yield return Cmp("uniform", u, Rounded(Enumerable.Range(0, n).Select(i => -2 + 5 * CounterRng.Uniform(11, i)).ToArray(), dtype), dtype);
    }

    public static IEnumerable<Comparison> Memory(IBackend b, DType dtype)
    {
        var data = Enumerable.Range(0, 2 * 3 * 4 * 5).Select(i => (double)(i % 17) - 5.5).ToArray();
        var x = Upload(b, data, new Shape(2, 3, 4, 5), dtype);
        // Permute to (5, 3, 2, 4), take rows 1 and 3 of the first axis, densify.
        var view = x.Permute(3, 1, 0, 2).Slice(0, 1, 2, step: 2);
        var dense = TensorOps.Contiguous(view);
        var expected = new List<double>();
        foreach (int a in new[] { 1, 3 })
            for (int c1 = 0; c1 < 3; c1++)
                for (int c0 = 0; c0 < 2; c0++)
                    for (int c2 = 0; c2 < 4; c2++) expected.Add(data[((c0 * 3 + c1) * 4 + c2) * 5 + a]);
        yield return new Comparison("strided copy", dense.ToDoubleArray(), [.. expected], 0, 0);
        var asInt = TensorOps.Cast(view, DType.Int32);
        yield return new Comparison("cast to int32 (truncation)", asInt.ToDoubleArray(), expected.Select(Math.Truncate).ToArray(), 0, 0);
        var back = TensorOps.Cast(asInt, dtype);
        yield return new Comparison("cast from int32", back.ToDoubleArray(), expected.Select(Math.Truncate).ToArray(), 0, 0);
        var row = x.Slice(0, 1, 1).Expand(new Shape(3, 3, 4, 5));
        yield return new Comparison("broadcast copy", TensorOps.Contiguous(row).ToDoubleArray(),
            Enumerable.Range(0, 3).SelectMany(_ => data.Skip(60).Take(60)).ToArray(), 0, 0);
        var target = Tensor.Zeros(b, new Shape(4, 6), dtype);
        b.Memory.Fill(target.Transpose(0, 1).Slice(0, 1, 3, step: 2), 7);
        yield return new Comparison("strided fill", target.ToDoubleArray(),
            Enumerable.Range(0, 24).Select(i => i % 6 % 2 == 1 ? 7.0 : 0).ToArray(), 0, 0);
    }
}
