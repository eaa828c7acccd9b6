using System.Numerics;
using Hep.Kernels.Cpu;

namespace Hep.Engine.Tests;

/// <summary>
/// The CPU backend's large-tensor elementwise paths (outputs above the streaming threshold, split across
/// cores at arbitrary points, non-temporal stores with unaligned heads and ragged tails) against the
/// ordinary path: the same op evaluated piece by piece on views small enough to take the ordinary path
/// must give bit-identical results. Also strided/broadcast/size-1 shapes, misaligned and in-place views,
/// copy, cast, fill and where, with special values (NaN, ±0, ±∞, subnormals) placed in heads, tails and
/// the middle.
/// </summary>
public class ElementwiseStreamingTests
{
    private static readonly IBackend Cpu = Backends.Cpu;

    // Just above the 8 MB streaming threshold, with a ragged tail.
    private static int LargeCount(DType dtype) => (8 << 20) / dtype.SizeOf() + 37;

    private const int Piece = 50_001;

    [Test]
    public void LargeUnaryForwardIsBitIdenticalToSmallPieces([Values] UnaryOp op, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int n = LargeCount(dtype);
        using var buffer = Data(41, n + 3, dtype, UnaryCases.PositiveDomain(op) ? 0.1 : -4, 4, !Transcendental(op));
        using var x = buffer.Slice(0, 3, n); // misaligned start
        var (a, b) = UnaryCases.Params(op);
        using var y = TensorOps.Unary(op, x, a, b);
        AssertMatchesPieces(y, n, (s, len) =>
        {
            using var xs = x.Slice(0, s, len);
            return TensorOps.Unary(op, xs, a, b);
        }, $"{op} {dtype}");
    }

    [Test]
    public void LargeUnaryBackwardIsBitIdenticalToSmallPieces([Values] UnaryOp op)
    {
        int n = LargeCount(DType.Float32);
        using var x = Data(42, n, DType.Float32, UnaryCases.PositiveDomain(op) ? 0.1 : -4, 4, !TranscendentalBackward(op));
        using var g = Data(43, n, DType.Float32, -1, 1);
        var (a, b) = UnaryCases.Params(op);
        using var y = TensorOps.Unary(op, x, a, b);
        using var gx = TensorOps.UnaryBackward(op, x, y, g, a, b);
        AssertMatchesPieces(gx, n, (s, len) =>
        {
            using var xs = x.Slice(0, s, len);
            using var ys = y.Slice(0, s, len);
            using var gs = g.Slice(0, s, len);
            return TensorOps.UnaryBackward(op, xs, ys, gs, a, b);
        }, $"{op}Backward");
    }

    [Test]
    public void UnaryInPlaceOnMisalignedViewsMatchesOutOfPlace(
        [Values(UnaryOp.Relu, UnaryOp.Exp, UnaryOp.Softplus, UnaryOp.PowScalar, UnaryOp.Clamp, UnaryOp.Neg)] UnaryOp op,
        [Values(1037, 1 << 21)] int n)
    {
        // PowScalar 3 and Softplus make several passes: in place they must not read already-overwritten inputs.
        double a = op == UnaryOp.PowScalar ? 3 : UnaryCases.Params(op).A, b = UnaryCases.Params(op).B;
        using var buffer = Data(44, n + 9, DType.Float32, -3, 3, !Transcendental(op));
        using var x = buffer.Slice(0, 5, n);
        using var expected = TensorOps.Unary(op, x, a, b);
        using var copy = TensorOps.Contiguous(buffer, forceCopy: true);
        using var view = copy.Slice(0, 5, n);
        TensorOps.UnaryInPlace(op, view, a, b);
        AssertBitsEqual(view, expected, $"{op} in place, n = {n}");
        var all = copy.ToArray<float>();
        var original = buffer.ToArray<float>();
        for (int i = 0; i < 5; i++) Assert.That(all[i], Is.EqualTo(original[i]), "element before the view changed");
        for (int i = n + 5; i < n + 9; i++) Assert.That(all[i], Is.EqualTo(original[i]), "element after the view changed");
    }

    [Test]
    public void LargeBinaryIsBitIdenticalToSmallPiecesAndToScalarIeee([Values] BinaryOp op, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int n = LargeCount(dtype);
        using var aBuf = Data(45, n + 1, dtype, 0.5, 2, op != BinaryOp.Pow);
        using var a = aBuf.Slice(0, 1, n);
        using var b = Data(46, n, dtype, 0.5, 2, op != BinaryOp.Pow);
        using var s = Tensor.Scalar(Cpu, 1.25, dtype);
        using var y = TensorOps.Binary(op, a, b);
        using var ys = TensorOps.Binary(op, s, a);
        using var ya = TensorOps.Binary(op, a, s);
        AssertMatchesPieces(y, n, (st, len) =>
        {
            using var ap = a.Slice(0, st, len);
            using var bp = b.Slice(0, st, len);
            return TensorOps.Binary(op, ap, bp);
        }, $"{op} {dtype}", op == BinaryOp.Equal);
        AssertMatchesPieces(ys, n, (st, len) =>
        {
            using var ap = a.Slice(0, st, len);
            return TensorOps.Binary(op, s, ap);
        }, $"scalar {op} {dtype}", op == BinaryOp.Equal);
        AssertMatchesPieces(ya, n, (st, len) =>
        {
            using var ap = a.Slice(0, st, len);
            return TensorOps.Binary(op, ap, s);
        }, $"{op} scalar {dtype}", op == BinaryOp.Equal);
        using var outBuf = Tensor.Zeros(Cpu, new Shape(n + 2), dtype);
        using var outView = outBuf.Slice(0, 2, n); // misaligned destination
        TensorOps.BinaryInto(op, a, b, outView);
        AssertBitsEqual(outView, y, $"{op} {dtype} into a misaligned view");
        if (op == BinaryOp.Pow) return;
        var av = a.ToDoubleArray();
        var bv = b.ToDoubleArray();
        var yv = y.ToDoubleArray();
        bool f32 = dtype == DType.Float32;
        for (int i = 0; i < n; i++)
        {
            double e = f32 ? Ieee(op, (float)av[i], (float)bv[i]) : Ieee(op, av[i], bv[i]);
            if (!SameValue(yv[i], e)) Assert.Fail($"{op} {dtype} [{i}]: {yv[i]} vs IEEE {e} ({av[i]}, {bv[i]})");
        }
    }

    [Test]
    public void FewLongStridedRowsWithBroadcastSplitMidRow([Values(BinaryOp.Add, BinaryOp.Mul, BinaryOp.Max, BinaryOp.Greater)] BinaryOp op)
    {
        // a: 3 rows of m out of rows of m + 7 (not mergeable), b: one row broadcast; 3 rows over 2 cores
        // put a piece boundary in the middle of row 1, and the 12 MB output streams.
        int m = (1 << 20) + 3;
        using var aBase = Data(47, 3 * (m + 7), DType.Float32, -2, 2);
        using var aRows = aBase.View(3, m + 7);
        using var a = aRows.Slice(1, 2, m);
        using var b = Data(48, m, DType.Float32, -2, 2);
        using var y = TensorOps.Binary(op, a, b);
        var av = aBase.ToArray<float>();
        var bv = b.ToArray<float>();
        var yv = y.ToArray<float>();
        for (int r = 0; r < 3; r++)
            for (int j = 0; j < m; j++)
            {
                double e = Ieee(op, av[r * (m + 7) + 2 + j], bv[j]);
                if (!SameValue(yv[r * m + j], e)) Assert.Fail($"{op} [{r},{j}]: {yv[r * m + j]} vs {e}");
            }
    }

    [Test]
    public void UnaryOnStridedInputAndOutputViews([Values(UnaryOp.Exp, UnaryOp.Relu, UnaryOp.Softplus)] UnaryOp op)
    {
        // The backend's unary kernel on a transposed input (inner stride ≠ 1) and into a transposed output.
        using var xBase = Data(49, 300 * 257, DType.Float32, -3, 3, specialValues: false);
        using var xMat = xBase.View(300, 257);
        using var xT = xMat.Transpose(0, 1); // (257, 300), inner stride 257
        using var expected = TensorOps.Unary(op, xT); // densifies first
        using var y = Tensor.Zeros(Cpu, new Shape(257, 300));
        Cpu.Elementwise.Unary(op, xT, y);
        AssertBitsEqual(y, expected, $"{op} strided input");
        using var outBase = Tensor.Zeros(Cpu, new Shape(300, 257));
        using var outT = outBase.Transpose(0, 1);
        Cpu.Elementwise.Unary(op, xT, outT);
        AssertBitsEqual(outT, expected, $"{op} strided output");
        using var gy = Data(50, 257 * 300, DType.Float32, -1, 1);
        using var g = gy.View(257, 300);
        using var gxExpected = TensorOps.UnaryBackward(op, xT, expected, g);
        using var gx = Tensor.Zeros(Cpu, new Shape(257, 300));
        Cpu.Elementwise.UnaryBackward(op, xT, expected, g, gx);
        AssertBitsEqual(gx, gxExpected, $"{op} backward strided input");
    }

    [Test]
    public void SizeOneAndEmptyShapes([Values(UnaryOp.Relu, UnaryOp.Exp)] UnaryOp op)
    {
        using var x = Tensor.FromArray<float>(Cpu, [-0.5f], new Shape(1, 1, 1));
        using var y = TensorOps.Unary(op, x);
        Assert.That(y.ToArray<float>()[0], Is.EqualTo(op == UnaryOp.Relu ? 0f : MathF.Exp(-0.5f)));
        using var s = Tensor.Scalar(Cpu, 2);
        using var sum = TensorOps.Add(x, s);
        Assert.That(sum.ToArray<float>(), Is.EqualTo(new[] { 1.5f }));
        using var e = Tensor.Zeros(Cpu, new Shape(0, 5));
        using var ey = TensorOps.Unary(op, e);
        using var eSum = TensorOps.Add(e, s);
        Assert.That(ey.Numel + eSum.Numel, Is.Zero);
        TensorOps.FillInPlace(e, 3);
    }

    [Test]
    public void LargeCopyCastFillAndWhereAreExact()
    {
        int n = LargeCount(DType.Float32);
        using var buf = Data(51, n + 3, DType.Float32, -2, 2);
        using var x = buf.Slice(0, 3, n);
        var xv = x.ToArray<float>();

        using var copy = TensorOps.Contiguous(x, forceCopy: true);
        Assert.That(copy.ToArray<float>(), Is.EqualTo(xv), "copy");

        using var wide = TensorOps.Cast(x, DType.Float64);
        var wv = wide.ToArray<double>();
        using var narrow = TensorOps.Cast(wide, DType.Float32);
        Assert.That(narrow.ToArray<float>(), Is.EqualTo(xv), "float → double → float");
        for (int i = 0; i < n; i++)
            if (!SameValue(wv[i], xv[i])) Assert.Fail($"cast [{i}]: {wv[i]} vs {xv[i]}");
        using var ints = TensorOps.Cast(x, DType.Int32);
        var iv = ints.ToArray<int>();
        for (int i = 0; i < n; i += 97)
            if (Math.Abs(xv[i]) < 1e9f && iv[i] != (int)xv[i]) Assert.Fail($"cast to int [{i}]: {iv[i]} vs {(int)xv[i]}");

        using var filled = TensorOps.Contiguous(buf, forceCopy: true);
        using var fillView = filled.Slice(0, 1, n);
        TensorOps.FillInPlace(fillView, -7.5);
        var fv = filled.ToArray<float>();
        var bv = buf.ToArray<float>();
        Assert.That(fv[0], Is.EqualTo(bv[0]), "fill wrote before its view");
        Assert.That(fv[n + 1], Is.EqualTo(bv[n + 1]), "fill wrote after its view");
        for (int i = 1; i <= n; i++)
            if (fv[i] != -7.5f) Assert.Fail($"fill [{i}] = {fv[i]}");

        using var mask = Tensor.FromArray<float>(Cpu, Rand.Floats(52, n).Select(v => v > 0 ? 1f : 0f).ToArray(), new Shape(n));
        using var other = Data(53, n, DType.Float32, -1, 1);
        using var w = TensorOps.Where(mask, x, other);
        var mv = mask.ToArray<float>();
        var ov = other.ToArray<float>();
        var wv2 = w.ToArray<float>();
        for (int i = 0; i < n; i++)
        {
            float e = mv[i] != 0 ? xv[i] : ov[i];
            if (BitConverter.SingleToInt32Bits(wv2[i]) != BitConverter.SingleToInt32Bits(e)) Assert.Fail($"where [{i}]: {wv2[i]} vs {e}");
        }
    }

    [Test]
    public void LargeStridedCopySplitsAcrossRows()
    {
        // A transposed (non-unit inner stride) copy into a contiguous tensor, and a broadcast fill-copy.
        using var src = Data(54, 1500 * 1500, DType.Float32, -1, 1);
        using var m = src.View(1500, 1500);
        using var t = m.Transpose(0, 1);
        using var dense = TensorOps.Contiguous(t);
        var sv = src.ToArray<float>();
        var dv = dense.ToArray<float>();
        for (int i = 0; i < 1500; i++)
            for (int j = 0; j < 1500; j++)
                if (BitConverter.SingleToInt32Bits(dv[i * 1500 + j]) != BitConverter.SingleToInt32Bits(sv[j * 1500 + i])) Assert.Fail($"transpose copy [{i},{j}]");
        using var row = Tensor.Full(Cpu, new Shape(1), -0.625);
        using var wide = row.Expand(new Shape(3000, 1000));
        using var filled = TensorOps.Contiguous(wide);
        const float v = -0.625f;
        Assert.That(filled.ToArray<float>().All(f => f == v), Is.True, "broadcast copy");
    }

    // TensorPrimitives' vectorised transcendental functions finish a whole vector with scalar code when
    // one of its lanes holds a special value, so near such values their results depend on how elements are
    // grouped into vectors (which depends on where a span starts): bit-identity is asserted for them on
    // ordinary values only. Every other op is lane-independent and is also checked on special values.
    private static bool Transcendental(UnaryOp op) =>
        op is UnaryOp.Exp or UnaryOp.Log or UnaryOp.Gelu or UnaryOp.Sigmoid or UnaryOp.Tanh or UnaryOp.Softplus or UnaryOp.PowScalar;

    private static bool TranscendentalBackward(UnaryOp op) => op is UnaryOp.Gelu or UnaryOp.Softplus or UnaryOp.PowScalar;

    // Random values in [lo, hi), optionally with special values in the head, the tail and around the middle.
    private static Tensor Data(int seed, int n, DType dtype, double lo, double hi, bool specialValues = true)
    {
        var d = Rand.Doubles(seed, n, lo, hi);
        double[] specials = [double.NaN, 0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, 1e-40, -1e-310, 1e30];
        foreach (int at in specialValues ? new[] { 0, 1, 7, 13, n / 2 - 3, n / 2 + 11, n - 20, n - 9 } : [])
        {
            for (int k = 0; k < specials.Length && at + k < n; k++)
                if (at + k >= 0) d[at + k] = specials[(k + at) % specials.Length];
        }
        return Operands.FromDoubles(Cpu, d, new Shape(n), dtype);
    }

    private static long[] Bits(Tensor t) =>
        t.DType == DType.Float64
            ? Array.ConvertAll(t.ToArray<double>(), BitConverter.DoubleToInt64Bits)
            : Array.ConvertAll(t.ToArray<float>(), v => (long)BitConverter.SingleToInt32Bits(v));

    private static void AssertBitsEqual(Tensor actual, Tensor expected, string label)
    {
        var a = Bits(actual);
        var e = Bits(expected);
        Assert.That(a, Has.Length.EqualTo(e.Length), label);
        for (int i = 0; i < a.Length; i++)
            if (a[i] != e[i]) Assert.Fail($"{label} [{i}]: bits {a[i]:X} vs {e[i]:X}");
    }

    // y (n elements) equals, bit for bit, the concatenation of piece(start, length) over small pieces.
    private static void AssertMatchesPieces(Tensor y, int n, Func<int, int, Tensor> piece, string label, bool mostlyZero = false)
    {
        var actual = Bits(y);
        Assert.That(actual, Has.Length.EqualTo(n), label);
        int nonZero = 0;
        for (int s = 0; s < n; s += Piece)
        {
            int len = Math.Min(Piece, n - s);
            using var p = piece(s, len);
            var expected = Bits(p);
            for (int i = 0; i < len; i++)
            {
                if (actual[s + i] != expected[i]) Assert.Fail($"{label} [{s + i}]: bits {actual[s + i]:X} vs {expected[i]:X} from a small piece");
                if (expected[i] != 0) nonZero++;
            }
        }
        if (!mostlyZero) Assert.That(nonZero, Is.GreaterThan(n / 20), $"{label}: result is mostly zero");
    }

    // The op in T's arithmetic (float32 ops round to float32), widened to double.
    private static double Ieee<T>(BinaryOp op, T a, T b) where T : IFloatingPointIeee754<T> => double.CreateTruncating(op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => T.Max(a, b),
        BinaryOp.Min => T.Min(a, b),
        BinaryOp.Greater => a > b ? T.One : T.Zero,
        BinaryOp.Less => a < b ? T.One : T.Zero,
        BinaryOp.Equal => a == b ? T.One : T.Zero,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    });

    // Equal values, both NaN, or equal zeros of the same sign.
    private static bool SameValue(double a, double b) =>
        (double.IsNaN(a) && double.IsNaN(b)) || (a == b && double.IsNegative(a) == double.IsNegative(b));
}
