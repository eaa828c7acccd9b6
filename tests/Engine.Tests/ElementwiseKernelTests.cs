namespace Hep.Engine.Tests;

/// <summary>Every unary/binary kernel against a scalar float64 reference, in float32 and float64.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class ElementwiseKernelTests(IBackend backend)
{
    private static double Ref(UnaryOp op, double x, double a, double b) => UnaryOpReference.Apply(op, x, a, b);

    [Test]
    public void UnaryForwardMatchesReference([ValueSource(typeof(UnaryCases), nameof(UnaryCases.All))] UnaryOp op, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        // 1037 elements: several SIMD widths plus a ragged tail, and enough to split across cores.
        int n = 1037;
        double lo = UnaryCases.PositiveDomain(op) ? 0.1 : -4, hi = 4;
        var data = Rand.Doubles(11, n, lo, hi);
        using var x = Make(data, dtype);
        var (a, b) = UnaryCases.Params(op);
        using var y = TensorOps.Unary(op, x, a, b);
        var expected = data.Select(v => Ref(op, dtype == DType.Float32 ? (float)v : v, a, b)).ToArray();
        double atol = dtype == DType.Float32 ? 2e-6 : 1e-7, rtol = dtype == DType.Float32 ? 2e-6 : 1e-7;
        TensorAssert.Close(y, expected, atol, rtol, $"{op} {dtype}");
    }

    [Test]
    public void UnaryBackwardMatchesCentralDifferences([ValueSource(typeof(UnaryCases), nameof(UnaryCases.All))] UnaryOp op)
    {
        int n = 301;
        double lo = UnaryCases.PositiveDomain(op) ? 0.2 : -3, hi = 3;
        var data = Rand.Doubles(12, n, lo, hi);
        var (a, b) = UnaryCases.Params(op);
        // Keep away from kinks (relu/abs at 0, clamp at its bounds) where the derivative is not defined.
        for (int i = 0; i < n; i++)
        {
            foreach (var kink in new[] { 0.0, a, b })
                if (Math.Abs(data[i] - kink) < 1e-3) data[i] += 0.01;
        }
        var g = Rand.Doubles(13, n);
        using var x = Make(data, DType.Float64);
        using var gy = Make(g, DType.Float64);
        using var y = TensorOps.Unary(op, x, a, b);
        using var gx = TensorOps.UnaryBackward(op, x, y, gy, a, b);
        const double h = 1e-6;
        var expected = data.Select((v, i) => g[i] * (Ref(op, v + h, a, b) - Ref(op, v - h, a, b)) / (2 * h)).ToArray();
        TensorAssert.Close(gx, expected, 1e-6, 1e-5, op.ToString(), allowAllZero: false);
    }

    [Test]
    public void BinaryBroadcastsOverStridedViews([Values] BinaryOp op, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        // a: (3, 1, 5) transposed from (5, 1, 3); b: (4, 1) → y: (3, 4, 5)
        var ad = Rand.Doubles(21, 15, 0.5, 2);
        var bd = Rand.Doubles(22, 4, 0.5, 2);
        bd[1] = ad[0]; // exercise Equal
        using var aBase = Make(ad, dtype, new Shape(5, 1, 3));
        using var a = aBase.Permute(2, 1, 0);
        using var b = Make(bd, dtype, new Shape(4, 1));
        using var y = TensorOps.Binary(op, a, b);
        Assert.That(y.Shape, Is.EqualTo(new Shape(3, 4, 5)));
        var expected = new double[60];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++)
                {
                    double av = ad[k * 3 + i], bv = bd[j];
                    if (dtype == DType.Float32) { av = (float)av; bv = (float)bv; }
                    expected[(i * 4 + j) * 5 + k] = op switch
                    {
                        BinaryOp.Add => av + bv, BinaryOp.Sub => av - bv, BinaryOp.Mul => av * bv, BinaryOp.Div => av / bv,
                        BinaryOp.Max => Math.Max(av, bv), BinaryOp.Min => Math.Min(av, bv), BinaryOp.Pow => Math.Pow(av, bv),
                        BinaryOp.Greater => av > bv ? 1 : 0, BinaryOp.Less => av < bv ? 1 : 0, _ => av == bv ? 1 : 0,
                    };
                }
        double tol = dtype == DType.Float32 ? 1e-6 : 1e-14;
        TensorAssert.Close(y, expected, tol, tol, $"{op} {dtype}");
    }

    [Test]
    public void ContiguousBinaryAndScalarFastPathsAgreeWithStridedPath()
    {
        int n = 4099;
        var ad = Rand.Floats(31, n);
        var bd = Rand.Floats(32, n);
        using var a = Tensor.FromArray<float>(backend, ad, new Shape(n));
        using var b = Tensor.FromArray<float>(backend, bd, new Shape(n));
        using var s = Tensor.Scalar(backend, 0.25);
        using var sum = TensorOps.Add(a, b);
        using var diff = TensorOps.Sub(s, a);
        var sv = sum.ToArray<float>();
        var dv = diff.ToArray<float>();
        for (int i = 0; i < n; i++)
        {
            Assert.That(sv[i], Is.EqualTo(ad[i] + bd[i]));
            Assert.That(dv[i], Is.EqualTo(0.25f - ad[i]));
        }
    }

    [Test]
    public void WhereAndMaskedFillSelectPerElement()
    {
        using var x = Tensor.FromArray<float>(backend, [1, 2, 3, 4, 5, 6], new Shape(2, 3));
        using var mask = Tensor.FromArray<float>(backend, [1, 0, 1], new Shape(3));
        using var y = TensorOps.MaskedFill(x, mask, -9);
        Assert.That(y.ToArray<float>(), Is.EqualTo(new float[] { -9, 2, -9, -9, 5, -9 }));
    }

    [Test]
    public void IntegerTensorsAreRejectedByFloatKernelsWithTheOpName()
    {
        using var i = Tensor.FromArray<int>(backend, [1, 2], new Shape(2));
        var ex = Assert.Throws<ArgumentException>(() => TensorOps.Unary(UnaryOp.Exp, i));
        Assert.That(ex!.Message, Does.Contain("Exp"));
    }

    private Tensor Make(double[] data, DType dtype, Shape? shape = null) =>
        Operands.FromDoubles(backend, data, shape ?? new Shape(data.Length), dtype);
}
