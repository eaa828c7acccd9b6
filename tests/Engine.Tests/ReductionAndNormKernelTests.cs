namespace Hep.Engine.Tests;

/// <summary>Reductions, softmax, layer norm and batch norm against float64 host references.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class ReductionAndNormKernelTests(IBackend backend)
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    public void ReduceAlongEachAxis(int axis)
    {
        int[] dims = [3, 37, 2050]; // inner > one block of the CPU kernel
        var data = Rand.Doubles(41, dims[0] * dims[1] * dims[2]);
        using var x = Tensor.FromArray<double>(backend, data, new Shape(dims));
        foreach (var op in Enum.GetValues<ReduceOp>())
        {
            using var y = TensorOps.Reduce(op, x, axis);
            int outer = dims.Take(axis).Aggregate(1, (p, d) => p * d), n = dims[axis], inner = dims.Skip(axis + 1).Aggregate(1, (p, d) => p * d);
            var expected = new double[outer * inner];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    var vals = Enumerable.Range(0, n).Select(k => data[(o * n + k) * inner + i]).ToArray();
                    expected[o * inner + i] = op switch
                    {
                        ReduceOp.Sum => vals.Sum(), ReduceOp.Mean => vals.Average(), ReduceOp.Max => vals.Max(), _ => vals.Min(),
                    };
                }
            TensorAssert.Close(y, expected, 1e-12, 1e-12, $"{op} axis {axis}");
        }
    }

    [Test]
    public void ArgMaxTakesFirstOfTies()
    {
        using var x = Tensor.FromArray<float>(backend, [1, 5, 5, 2, 9, 3, 9, 0], new Shape(2, 4));
        using var rows = TensorOps.ArgMax(x, 1);
        Assert.That(rows.ToArray<int>(), Is.EqualTo(new[] { 1, 0 }));
        using var cols = TensorOps.ArgMax(x, 0);
        Assert.That(cols.ToArray<int>(), Is.EqualTo(new[] { 1, 0, 1, 0 }));
    }

    [Test]
    public void SoftmaxRowsSumToOneAndMaskedRowsGiveZeros([Values] bool log)
    {
        const double NegInf = double.NegativeInfinity;
        double[] data = [1, 2, 3, NegInf, NegInf, NegInf, 1000, 0, NegInf];
        using var x = Tensor.FromArray<double>(backend, data, new Shape(3, 3));
        using var y = TensorOps.Softmax(x, -1, log);
        var v = y.ToDoubleArray();
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        double[] soft = [Math.Exp(1) / z, Math.Exp(2) / z, Math.Exp(3) / z, 0, 0, 0, 1, Math.Exp(-1000), 0];
        var expected = log ? soft.Select((p, i) => i is 3 or 4 or 5 or 8 ? NegInf : i == 7 ? -1000 : Math.Log(p)).ToArray() : soft;
        TensorAssert.Close(v, expected, 1e-12, 1e-12, "softmax");
    }

    [Test]
    public void SoftmaxAlongMiddleAxisMatchesReference()
    {
        var data = Rand.Doubles(42, 2 * 5 * 3, -3, 3);
        using var x = Tensor.FromArray<double>(backend, data, new Shape(2, 5, 3));
        using var y = TensorOps.Softmax(x, 1);
        var expected = new double[30];
        for (int o = 0; o < 2; o++)
            for (int i = 0; i < 3; i++)
            {
                double z = 0;
                for (int k = 0; k < 5; k++) z += Math.Exp(data[(o * 5 + k) * 3 + i]);
                for (int k = 0; k < 5; k++) expected[(o * 5 + k) * 3 + i] = Math.Exp(data[(o * 5 + k) * 3 + i]) / z;
            }
        TensorAssert.Close(y, expected, 1e-14, 1e-12, "softmax axis 1");
    }

    [Test]
    public void LayerNormForwardMatchesReference()
    {
        int rows = 7, n = 33;
        var data = Rand.Doubles(43, rows * n, -2, 5);
        var gamma = Rand.Doubles(44, n, 0.5, 1.5);
        var beta = Rand.Doubles(45, n);
        using var x = Tensor.FromArray<double>(backend, data, new Shape(rows, n));
        using var g = Tensor.FromArray<double>(backend, gamma, new Shape(n));
        using var b = Tensor.FromArray<double>(backend, beta, new Shape(n));
        using var y = Tensor.Zeros(backend, x.Shape, DType.Float64);
        using var mean = Tensor.Zeros(backend, new Shape(rows), DType.Float64);
        using var rstd = Tensor.Zeros(backend, new Shape(rows), DType.Float64);
        backend.Norm.LayerNormForward(x, g, b, 1e-5, y, mean, rstd);
        var expected = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            var row = data.Skip(r * n).Take(n).ToArray();
            double mu = row.Average(), var = row.Select(v => (v - mu) * (v - mu)).Average();
            for (int i = 0; i < n; i++) expected[r * n + i] = (row[i] - mu) / Math.Sqrt(var + 1e-5) * gamma[i] + beta[i];
        }
        TensorAssert.Close(y, expected, 1e-12, 1e-10, "layernorm");
    }

    [TestCase(5, 4, 1)]
    [TestCase(3, 4, 17)]
    public void BatchNormMomentsAndAffineMatchReference(int b, int c, int l)
    {
        var data = Rand.Doubles(46, b * c * l, -1, 3);
        var shape = l == 1 ? new Shape(b, c) : new Shape(b, c, l);
        using var x = Tensor.FromArray<double>(backend, data, shape);
        using var mean = Tensor.Zeros(backend, new Shape(c), DType.Float64);
        using var variance = Tensor.Zeros(backend, new Shape(c), DType.Float64);
        backend.Norm.ChannelMoments(x, mean, variance);
        var em = new double[c];
        var ev = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            var vals = new List<double>();
            for (int i = 0; i < b; i++)
                for (int k = 0; k < l; k++) vals.Add(data[(i * c + ch) * l + k]);
            em[ch] = vals.Average();
            ev[ch] = vals.Select(v => (v - em[ch]) * (v - em[ch])).Average();
        }
        TensorAssert.Close(mean, em, 1e-12, 1e-12, "mean");
        TensorAssert.Close(variance, ev, 1e-12, 1e-12, "variance");
        var scale = Rand.Doubles(47, c);
        var shift = Rand.Doubles(48, c);
        using var s = Tensor.FromArray<double>(backend, scale, new Shape(c));
        using var t = Tensor.FromArray<double>(backend, shift, new Shape(c));
        using var y = Tensor.Zeros(backend, shape, DType.Float64);
        backend.Norm.ChannelAffine(x, s, t, y);
        var ey = data.Select((v, i) => v * scale[i / l % c] + shift[i / l % c]).ToArray();
        TensorAssert.Close(y, ey, 1e-14, 1e-12, "affine");
    }
}
