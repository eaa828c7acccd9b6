namespace Hep.Ilgpu.Tests;

/// <summary>Every unary (forward and backward), binary and Where kernel: ILGPU CPU accelerator vs CPU backend.</summary>
public class ElementwiseCrossTests
{
    // 1, a non-multiple of the group (16) and warp (4/32) sizes, and a larger ragged size.
    [Test]
    public void UnaryForwardAndBackwardMatchCpu([ValueSource(typeof(UnaryCases), nameof(UnaryCases.All))] UnaryOp op, [Values(DType.Float32, DType.Float64)] DType dtype,
        [Values(1, 37, 1037)] int n)
    {
        double lo = UnaryCases.PositiveDomain(op) ? 0.1 : -4, hi = 4;
        var (a, b) = UnaryCases.Params(op);
        var data = Rand.Doubles(100 + n, n, lo, hi);
        if (n == 1) data[0] = UnaryCases.PositiveDomain(op) ? 1.3 : -0.7;
        var x = Twin.Pair(data, new Shape(n), dtype);
        var g = Twin.Random(200 + n, new Shape(n), dtype);
        using var yc = TensorOps.Unary(op, x.Cpu, a, b);
        using var yg = TensorOps.Unary(op, x.Gpu, a, b);
        bool zeroOk = op is UnaryOp.Relu or UnaryOp.Clamp && n == 1;
        Twin.Same(yc, yg, Twin.Elementwise(dtype), $"{op} {dtype} n={n}", zeroOk);
        using var gc = TensorOps.UnaryBackward(op, x.Cpu, yc, g.Cpu, a, b);
        using var gg = TensorOps.UnaryBackward(op, x.Gpu, yg, g.Gpu, a, b);
        Twin.Same(gc, gg, Twin.Elementwise(dtype), $"{op}Backward {dtype} n={n}", allowAllZero: true);
        Twin.Dispose(x, g);
    }

    [Test]
    public void BinaryBroadcastsOverTransposedViews([Values] BinaryOp op, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        // a: (3, 1, 37) permuted from (37, 1, 3); b: (5, 1) → y: (3, 5, 37)
        var ad = Rand.Doubles(21, 111, 0.5, 2);
        var bd = Rand.Doubles(22, 5, 0.5, 2);
        bd[1] = ad[0]; // exercise Equal
        var aBase = Twin.Pair(ad, new Shape(37, 1, 3), dtype);
        var b = Twin.Pair(bd, new Shape(5, 1), dtype);
        using var ac = aBase.Cpu.Permute(2, 1, 0);
        using var ag = aBase.Gpu.Permute(2, 1, 0);
        using var yc = TensorOps.Binary(op, ac, b.Cpu);
        using var yg = TensorOps.Binary(op, ag, b.Gpu);
        Assert.That(yg.Shape, Is.EqualTo(new Shape(3, 5, 37)));
        Twin.Same(yc, yg, Twin.Elementwise(dtype), $"{op} {dtype}");
        // Scalar (rank 0) and size-1 operands.
        var s = Twin.Pair([0.75], new Shape(), dtype);
        using var zc = TensorOps.Binary(op, s.Cpu, b.Cpu);
        using var zg = TensorOps.Binary(op, s.Gpu, b.Gpu);
        Twin.Same(zc, zg, Twin.Elementwise(dtype), $"{op} scalar {dtype}", allowAllZero: true);
        Twin.Dispose(aBase, b, s);
    }

    [Test]
    public void WhereBroadcastsConditionAndBranches([Values(DType.Float32, DType.Float64)] DType dtype)
    {
        var cond = Twin.Pair(Rand.Ints(31, 17, 0, 2).Select(v => (double)v).ToArray(), new Shape(17), dtype);
        var a = Twin.Random(32, new Shape(3, 1), dtype);
        var bBase = Twin.Random(33, new Shape(17, 3), dtype);
        using var bc = bBase.Cpu.Transpose(0, 1);
        using var bg = bBase.Gpu.Transpose(0, 1);
        using var yc = TensorOps.Where(cond.Cpu, a.Cpu, bc);
        using var yg = TensorOps.Where(cond.Gpu, a.Gpu, bg);
        Assert.That(yg.Shape, Is.EqualTo(new Shape(3, 17)));
        Twin.Same(yc, yg, (0, 0), $"Where {dtype}");
        using var mc = TensorOps.MaskedFill(bc, cond.Cpu, -9);
        using var mg = TensorOps.MaskedFill(bg, cond.Gpu, -9);
        Twin.Same(mc, mg, (0, 0), $"MaskedFill {dtype}");
        Twin.Dispose(cond, a, bBase);
    }

    [Test]
    public void IntegerInputIsRejectedNamingOpAndBackend()
    {
        using var x = Tensor.Zeros(Twin.Gpu, new Shape(3), DType.Int32);
        using var y = Tensor.Zeros(Twin.Gpu, new Shape(3), DType.Int32);
        var ex = Assert.Throws<BackendNotSupportedException>(() => Twin.Gpu.Elementwise.Unary(UnaryOp.Exp, x, y));
        Assert.That(ex!.Message, Does.Contain("Exp").And.Contain("ilgpu-cpu"));
    }
}
