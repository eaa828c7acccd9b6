namespace Hep.Ilgpu.Tests;

/// <summary>Reductions, ArgMax, softmax, layer norm and batch norm: ILGPU CPU accelerator vs CPU backend.</summary>
public class ReductionNormCrossTests
{
    private static readonly DType[] Floats = [DType.Float32, DType.Float64];

    // (3, 37, 70): short rows → per-output threads; (2, 300): long rows → one group per row.
    [TestCase(new[] { 3, 37, 70 }, 0)]
    [TestCase(new[] { 3, 37, 70 }, 1)]
    [TestCase(new[] { 3, 37, 70 }, 2)]
    [TestCase(new[] { 2, 300 }, 1)]
    [TestCase(new[] { 1, 1 }, 0)]
    [TestCase(new[] { 5, 1 }, 1)]
    public void ReduceAndArgMaxMatchCpu(int[] dims, int axis)
    {
        foreach (var dtype in Floats)
        {
            var shape = new Shape(dims);
            var x = Twin.Random(41, shape, dtype, -2, 3);
            foreach (var op in Enum.GetValues<ReduceOp>())
            {
                using var yc = TensorOps.Reduce(op, x.Cpu, axis);
                using var yg = TensorOps.Reduce(op, x.Gpu, axis);
                Twin.Same(yc, yg, Twin.Summed(dtype, dims[axis]), $"{op} axis {axis} {dtype} {shape}");
                using var kc = TensorOps.Reduce(op, x.Cpu, axis, keepDim: true);
                using var kg = TensorOps.Reduce(op, x.Gpu, axis, keepDim: true);
                Assert.That(kg.Shape, Is.EqualTo(kc.Shape));
            }
            using var ac = TensorOps.ArgMax(x.Cpu, axis);
            using var ag = TensorOps.ArgMax(x.Gpu, axis);
            Assert.That(ag.ToArray<int>(), Is.EqualTo(ac.ToArray<int>()), $"ArgMax axis {axis} {dtype}");
            Twin.Dispose(x);
        }
    }

    [Test]
    public void ArgMaxTakesFirstOfTies()
    {
        using var x = Tensor.FromArray<float>(Twin.Gpu, [1, 5, 5, 2, 9, 3, 9, 0], new Shape(2, 4));
        using var rows = TensorOps.ArgMax(x, 1);
        Assert.That(rows.ToArray<int>(), Is.EqualTo(new[] { 1, 0 }));
    }

    // Row lengths: 1, 5 (< group), 16 and 128 (whole AVX-512 vectors on the CPU side), 33 (non-multiple of 16 and 32), 300 (several strides per thread).
    [Test]
    public void SoftmaxForwardAndBackwardMatchCpu([Values(1, 5, 16, 33, 128, 300)] int n, [Values] bool log, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int rows = 7;
        var data = Rand.Doubles(42 + n, rows * n, -3, 3);
        for (int i = 0; i < n; i++) data[2 * n + i] = double.NegativeInfinity; // fully masked row
        if (n > 1) data[4 * n + 1] = double.NegativeInfinity;                  // partly masked row
        var x = Twin.Pair(data, new Shape(rows, n), dtype);
        var g = Twin.Random(43, new Shape(rows, n), dtype);
        using var yc = TensorOps.Softmax(x.Cpu, -1, log);
        using var yg = TensorOps.Softmax(x.Gpu, -1, log);
        Twin.Same(yc, yg, Twin.Summed(dtype, n), $"softmax log={log} n={n} {dtype}");
        using var gc = TensorOps.SoftmaxBackward(yc, g.Cpu, -1, log);
        using var gg = TensorOps.SoftmaxBackward(yg, g.Gpu, -1, log);
        // A fully masked log-softmax row is −∞; its backward is dy (e^{−∞} = 0) on both backends.
        Twin.Same(gc, gg, Twin.Summed(dtype, n), $"softmax backward log={log} n={n} {dtype}", allowAllZero: n == 1);
        Twin.Dispose(x, g);
    }

    [Test]
    public void SoftmaxAlongMiddleAxisMatchesCpu()
    {
        var x = Twin.Random(44, new Shape(2, 19, 3), DType.Float32, -3, 3);
        using var yc = TensorOps.Softmax(x.Cpu, 1);
        using var yg = TensorOps.Softmax(x.Gpu, 1);
        Twin.Same(yc, yg, Twin.Summed(DType.Float32, 19), "softmax axis 1");
        Twin.Dispose(x);
    }

    [Test]
    public void LayerNormForwardAndBackwardMatchCpu([Values(1, 33, 300)] int n, [Values] bool affine, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int rows = 9;
        var x = Twin.Random(45 + n, new Shape(rows, n), dtype, -2, 5);
        var gamma = Twin.Random(46, new Shape(n), dtype, 0.5, 1.5);
        var beta = Twin.Random(47, new Shape(n), dtype);
        var gy = Twin.Random(48, new Shape(rows, n), dtype);
        var results = new List<Tensor>[2];
        foreach (var (side, b) in new[] { (0, Twin.Cpu), (1, (IBackend)Twin.Gpu) })
        {
            var xs = side == 0 ? x.Cpu : x.Gpu;
            Tensor? gm = affine ? (side == 0 ? gamma.Cpu : gamma.Gpu) : null;
            Tensor? bt = affine ? (side == 0 ? beta.Cpu : beta.Gpu) : null;
            var y = Tensor.Zeros(b, xs.Shape, dtype);
            var mean = Tensor.Zeros(b, new Shape(rows), dtype);
            var rstd = Tensor.Zeros(b, new Shape(rows), dtype);
            b.Norm.LayerNormForward(xs, gm, bt, 1e-5, y, mean, rstd);
            var gx = Tensor.Zeros(b, xs.Shape, dtype);
            var dg = Tensor.Full(b, new Shape(n), 0.5, dtype); // gradients accumulate into existing values
            var db = Tensor.Full(b, new Shape(n), 0.25, dtype);
            b.Norm.LayerNormBackward(xs, gm, mean, rstd, side == 0 ? gy.Cpu : gy.Gpu, gx, affine ? dg : null, affine ? db : null);
            results[side] = [y, mean, rstd, gx, dg, db];
        }
        string[] names = ["y", "mean", "rstd", "gradX", "gradGamma", "gradBeta"];
        for (int i = 0; i < names.Length; i++)
            Twin.Same(results[0][i], results[1][i], Twin.Summed(dtype, Math.Max(n, rows)), $"layernorm {names[i]} n={n} affine={affine} {dtype}", allowAllZero: n == 1);
        foreach (var t in results.SelectMany(r => r)) t.Dispose();
        Twin.Dispose(x, gamma, beta, gy);
    }

    [TestCase(5, 4, 1)]
    [TestCase(3, 4, 17)]
    [TestCase(1, 1, 1)]
    [TestCase(2, 3, 40)]
    public void BatchNormMatchesCpu(int b, int c, int l)
    {
        foreach (var dtype in Floats)
        {
            var shape = l == 1 ? new Shape(b, c) : new Shape(b, c, l);
            var x = Twin.Random(51, shape, dtype, -1, 3);
            var scale = Twin.Random(52, new Shape(c), dtype, 0.5, 1.5);
            var shift = Twin.Random(53, new Shape(c), dtype);
            var gy = Twin.Random(54, shape, dtype);
            var outs = new List<Tensor>[2];
            foreach (var (side, be) in new[] { (0, Twin.Cpu), (1, (IBackend)Twin.Gpu) })
            {
                Tensor Pick((Tensor Cpu, Tensor Gpu) p) => side == 0 ? p.Cpu : p.Gpu;
                var mean = Tensor.Zeros(be, new Shape(c), dtype);
                var variance = Tensor.Zeros(be, new Shape(c), dtype);
                be.Norm.ChannelMoments(Pick(x), mean, variance);
                var y = Tensor.Zeros(be, shape, dtype);
                be.Norm.ChannelAffine(Pick(x), Pick(scale), Pick(shift), y);
                var list = new List<Tensor> { mean, variance, y };
                foreach (bool training in new[] { true, false })
                {
                    var gx = Tensor.Zeros(be, shape, dtype);
                    var dg = Tensor.Full(be, new Shape(c), 0.5, dtype);
                    var db = Tensor.Full(be, new Shape(c), 0.25, dtype);
                    // invStd: reuse scale as a positive per-channel value; gamma present in training, absent in eval.
                    be.Norm.BatchNormBackward(Pick(x), mean, Pick(scale), training ? Pick(shift) : null, Pick(gy), training, gx, dg, training ? db : null);
                    list.AddRange([gx, dg, db]);
                }
                outs[side] = list;
            }
            string[] names = ["mean", "variance", "affine", "gradX(train)", "gradGamma(train)", "gradBeta(train)", "gradX(eval)", "gradGamma(eval)", "gradBeta(eval)"];
            for (int i = 0; i < names.Length; i++)
                Twin.Same(outs[0][i], outs[1][i], Twin.Summed(dtype, b * l), $"batchnorm {names[i]} ({b},{c},{l}) {dtype}", allowAllZero: b * l == 1);
            foreach (var t in outs.SelectMany(o => o)) t.Dispose();
            Twin.Dispose(x, scale, shift, gy);
        }
    }

    // Fused batch norm + ReLU (+ mean over groups): (B, C, L, group) with group 1, a multiple of the CPU
    // vector width (16) and not (5); dense (B, C). Mean/invStd/scale/shift from the CPU moments so both
    // sides share them; gradients accumulate into existing dγ/dβ.
    [TestCase(3, 4, 7 * 16, 16)]
    [TestCase(3, 4, 6 * 5, 5)]
    [TestCase(2, 3, 40, 1)]
    [TestCase(9, 5, 1, 1)]
    public void BatchNormReluMatchesCpu(int b, int c, int l, int group)
    {
        foreach (var dtype in Floats)
        {
            var shape = l == 1 ? new Shape(b, c) : new Shape(b, c, l);
            var outShape = l == 1 ? shape : new Shape(b, c, l / group);
            var x = Twin.Random(61, shape, dtype, -1, 3);
            var gy = Twin.Random(62, outShape, dtype);
            var mean = Twin.Random(63, new Shape(c), dtype, 0.5, 1.5);
            var invStd = Twin.Random(64, new Shape(c), dtype, 0.5, 1.5);
            var scale = Twin.Random(65, new Shape(c), dtype, 0.5, 1.5);
            var shift = Twin.Random(66, new Shape(c), dtype, -2, 0);
            var outs = new List<Tensor>[2];
            foreach (var (side, be) in new[] { (0, Twin.Cpu), (1, (IBackend)Twin.Gpu) })
            {
                Tensor Pick((Tensor Cpu, Tensor Gpu) p) => side == 0 ? p.Cpu : p.Gpu;
                var y = Tensor.Empty(be, outShape, dtype);
                be.Norm.ChannelAffineRelu(Pick(x), Pick(scale), Pick(shift), group, y);
                var list = new List<Tensor> { y };
                foreach (bool training in new[] { true, false })
                {
                    var gx = Tensor.Empty(be, shape, dtype);
                    var dg = Tensor.Full(be, new Shape(c), 0.5, dtype);
                    var db = Tensor.Full(be, new Shape(c), 0.25, dtype);
                    be.Norm.BatchNormReluBackward(Pick(x), Pick(mean), Pick(invStd), Pick(scale), Pick(shift), Pick(gy), group, training,
                        gx, dg, training ? db : null);
                    list.AddRange([gx, dg, db]);
                }
                outs[side] = list;
            }
            var yHost = outs[0][0].ToDoubleArray();
            Assert.That(yHost.Count(v => v > 0), Is.GreaterThan(yHost.Length / 4), "ReLU passes a share of the outputs");
            if (group == 1) Assert.That(yHost.Count(v => v == 0), Is.GreaterThan(0), "ReLU clips some outputs");
            string[] names = ["y", "gradX(train)", "gradGamma(train)", "gradBeta(train)", "gradX(eval)", "gradGamma(eval)", "gradBeta(eval)"];
            for (int i = 0; i < names.Length; i++)
                Twin.Same(outs[0][i], outs[1][i], Twin.Summed(dtype, b * l), $"batchnorm-relu {names[i]} ({b},{c},{l}) group {group} {dtype}");
            foreach (var t in outs.SelectMany(o => o)) t.Dispose();
            Twin.Dispose(x, gy, mean, invStd, scale, shift);
        }
    }

    // Training forward of the fused op (statistics, coefficients, apply in one launch), with and without
    // γ/β: every output against the CPU kernel.
    [TestCase(3, 4, 7 * 16, 16, true)]
    [TestCase(3, 4, 6 * 5, 5, false)]
    [TestCase(2, 3, 40, 1, true)]
    [TestCase(9, 5, 1, 1, true)]
    public void BatchNormReluTrainingForwardMatchesCpu(int b, int c, int l, int group, bool affine)
    {
        foreach (var dtype in Floats)
        {
            var shape = l == 1 ? new Shape(b, c) : new Shape(b, c, l);
            var outShape = l == 1 ? shape : new Shape(b, c, l / group);
            var x = Twin.Random(67, shape, dtype, -1, 3);
            var gamma = Twin.Random(68, new Shape(c), dtype, 0.5, 1.5);
            var beta = Twin.Random(69, new Shape(c), dtype, -0.5, 0.5);
            var outs = new List<Tensor>[2];
            foreach (var (side, be) in new[] { (0, Twin.Cpu), (1, (IBackend)Twin.Gpu) })
            {
                Tensor Pick((Tensor Cpu, Tensor Gpu) p) => side == 0 ? p.Cpu : p.Gpu;
                var y = Tensor.Empty(be, outShape, dtype);
                var stats = Enumerable.Range(0, 5).Select(_ => Tensor.Empty(be, new Shape(c), dtype)).ToArray();
                be.Norm.BatchNormReluForward(Pick(x), affine ? Pick(gamma) : null, affine ? Pick(beta) : null, 1e-5, group, y,
                    stats[0], stats[1], stats[2], stats[3], stats[4]);
                outs[side] = [y, .. stats];
            }
            var yHost = outs[0][0].ToDoubleArray();
            Assert.That(yHost.Count(v => v > 0), Is.GreaterThan(yHost.Length / 4), "ReLU passes a share of the outputs");
            if (group == 1) Assert.That(yHost.Count(v => v == 0), Is.GreaterThan(0), "ReLU clips some outputs");
            string[] names = ["y", "mean", "variance", "invStd", "scale", "shift"];
            for (int i = 0; i < names.Length; i++)
                Twin.Same(outs[0][i], outs[1][i], Twin.Summed(dtype, b * l), $"batchnorm-relu forward {names[i]} ({b},{c},{l}) group {group} {dtype}");
            foreach (var t in outs.SelectMany(o => o)) t.Dispose();
            Twin.Dispose(x, gamma, beta);
        }
    }

    [Test]
    public void Float32BatchNormMomentsAreFloat64Accumulated()
    {
        // Values 10 ± 1 over 16K-element channels: float32 partial sums miss the correctly rounded mean by
        // ulps; float64 accumulation (as the CPU kernel) gives it exactly (B·L a power of two).
        int b = 8, c = 3, l = 2048;
        var data = Rand.Floats(71, b * c * l, 9, 11);
        using var x = Tensor.FromArray<float>(Twin.Gpu, data, new Shape(b, c, l));
        using var mean = Tensor.Zeros(Twin.Gpu, new Shape(c), DType.Float32);
        using var variance = Tensor.Zeros(Twin.Gpu, new Shape(c), DType.Float32);
        Twin.Gpu.Norm.ChannelMoments(x, mean, variance);
        var m = mean.ToArray<float>();
        var v = variance.ToArray<float>();
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0, sq = 0;
            for (int i = 0; i < b; i++)
                for (int k = 0; k < l; k++) sum += data[(i * c + ch) * l + k];
            double exact = sum / (b * l);
            for (int i = 0; i < b; i++)
                for (int k = 0; k < l; k++) sq += (data[(i * c + ch) * l + k] - exact) * (data[(i * c + ch) * l + k] - exact);
            Assert.That(m[ch], Is.EqualTo((float)exact), $"channel {ch} mean");
            Assert.That(v[ch], Is.EqualTo((float)(sq / (b * l))).Within(1).Ulps, $"channel {ch} variance");
        }
    }
}
