namespace Hep.Engine.Tests;

/// <summary>
/// GEMM with a fused epilogue (<see cref="TensorOps.MatMulEpilogue"/>) against a float64 reference
/// act(Σ_k a·b · scale[m] + shift[m] + bias[n]) and against the composed ops (MatMul, Mul/Add, unary).
/// Sizes straddle the micro-tile (8×32 / 6×16: edge tiles read padded epilogue vectors), the K block
/// (256: the epilogue must wait for the last block and include the earlier blocks' partial sums) and
/// the row block; the weight is a broadcast rank-2 operand as in a 1×1 conv.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class MatMulEpilogueTests(IBackend backend)
{
    public enum Parts { RowAffine, ColumnBias, All, ActivationOnly }

    private static double Gelu(double x) => 0.5 * x * (1 + ErfReference(x / Math.Sqrt(2)));

    // erf independent of the engine's code: Maclaurin series below 2.5 (cancellation stays ~1e−14), above
    // it 1 − erfc with erfc's continued fraction x + (1/2)/(x + 1/(x + (3/2)/(x + …))) evaluated bottom-up.
    private static double ErfReference(double x)
    {
        double ax = Math.Abs(x);
        if (ax >= 2.5)
        {
            double f = ax;
            for (int n = 80; n >= 1; n--) f = ax + n / 2.0 / f;
            return Math.Sign(x) * (1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f);
        }
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    // act(w·x[b] · scale[i] + shift[i] + bias[j]) for a shared weight w (m, k) and x (batch, k, n).
    private static double[] Reference(double[] w, double[] x, int batch, int m, int k, int n, double[]? scale, double[]? shift, double[]? bias,
        GemmActivation act)
    {
        var c = Operands.Gemm(w, x, batch, m, k, n, aShared: true);
        for (int q = 0; q < c.Length; q++)
        {
            int i = q / n % m, j = q % n;
            double v = c[q] * (scale?[i] ?? 1) + (shift?[i] ?? 0) + (bias?[j] ?? 0);
            c[q] = act switch { GemmActivation.Relu => Math.Max(v, 0), GemmActivation.Gelu => Gelu(v), _ => v };
        }
        return c;
    }

    [Test]
    public void MatchesReference(
        [Values(Parts.RowAffine, Parts.ColumnBias, Parts.All, Parts.ActivationOnly)] Parts parts,
        [Values(GemmActivation.None, GemmActivation.Relu, GemmActivation.Gelu)] GemmActivation act,
        [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        foreach (var (batch, m, k, n) in new[] { (1, 1, 1, 1), (2, 7, 5, 33), (3, 17, 64, 48), (1, 129, 300, 65), (2, 64, 513, 70) })
        {
            bool row = parts is Parts.RowAffine or Parts.All, col = parts is Parts.ColumnBias or Parts.All;
            using var w = Operands.Random(backend, 71, new Shape(m, k), dtype);
            using var x = Operands.Random(backend, 72, new Shape(batch, k, n), dtype);
            using var scale = row ? Operands.Random(backend, 73, new Shape(m), dtype, 0.5, 2) : null;
            using var shift = row ? Operands.Random(backend, 74, new Shape(m), dtype) : null;
            using var bias = col ? Operands.Random(backend, 75, new Shape(n), dtype) : null;
            using var c = TensorOps.MatMulEpilogue(w.Tensor, x.Tensor, new GemmEpilogue(scale?.Tensor, shift?.Tensor, bias?.Tensor, act));
            Assert.That(c.Shape, Is.EqualTo(new Shape(batch, m, n)));
            var expected = Reference(w.Values, x.Values, batch, m, k, n, scale?.Values, shift?.Values, bias?.Values, act);
            double tol = dtype == DType.Float32 ? 4e-5 * Math.Sqrt(k) : 1e-12;
            TensorAssert.Close(c, expected, tol, tol, $"{parts} {act} {dtype} {batch}x{m}x{k}x{n}", allowAllZero: m * n == 1);
        }
    }

    // The fused result is the composed ops' result within float rounding (the epilogue uses one FMA for
    // the affine part and the same GELU formula as the unary op).
    [Test]
    public void EqualsComposedOps([Values(GemmActivation.None, GemmActivation.Relu, GemmActivation.Gelu)] GemmActivation act)
    {
        int batch = 3, m = 70, k = 300, n = 45;
        using var w = Rand.Tensor(backend, 76, new Shape(m, k));
        using var x = Rand.Tensor(backend, 77, new Shape(batch, k, n));
        using var scale = Rand.Tensor(backend, 78, new Shape(m), low: 0.5, high: 2);
        using var shift = Rand.Tensor(backend, 79, new Shape(m));
        using var bias = Rand.Tensor(backend, 80, new Shape(n));
        using var fused = TensorOps.MatMulEpilogue(w, x, new GemmEpilogue(scale, shift, bias, act));
        using var product = TensorOps.MatMul(w, x);
        using var s2 = scale.View(m, 1);
        using var t2 = shift.View(m, 1);
        using var scaled = TensorOps.Mul(product, s2);
        using var shifted = TensorOps.Add(scaled, t2);
        using var biased = TensorOps.Add(shifted, bias);
        using var composed = act switch
        {
            GemmActivation.Relu => TensorOps.Unary(UnaryOp.Relu, biased),
            GemmActivation.Gelu => TensorOps.Unary(UnaryOp.Gelu, biased),
            _ => TensorOps.Contiguous(biased),
        };
        TensorAssert.Close(fused, composed.ToDoubleArray(), 2e-6, 2e-6, $"fused vs composed {act}");
    }

    // Linear layout X·Wᵀ + bias → GELU (a transposed weight view, the form of a transformer FFN).
    [Test]
    public void LinearLayoutWithTransposedWeight()
    {
        int rows = 37, inF = 70, outF = 50;
        using var x = Operands.Random(backend, 81, new Shape(rows, inF));
        using var wRaw = Operands.Random(backend, 82, new Shape(outF, inF));
        using var wT = wRaw.Tensor.Transpose(0, 1);
        using var b = Operands.Random(backend, 83, new Shape(outF));
        var (xd, wd, bd) = (x.Values, wRaw.Values, b.Values);
        using var y = TensorOps.MatMulEpilogue(x.Tensor, wT, GemmEpilogue.ColumnBiasThen(b.Tensor, GemmActivation.Gelu));
        Assert.That(y.Shape, Is.EqualTo(new Shape(rows, outF)));
        var wTd = new double[inF * outF];
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++) wTd[i * outF + o] = wd[o * inF + i];
        // Reference with x as the (rows × inF) "weight" and wᵀ as a batch-1 right operand.
        var expected = Reference(xd, wTd, 1, rows, inF, outF, null, null, bd, GemmActivation.Gelu);
        TensorAssert.Close(y, expected, 4e-4, 4e-4, "linear + GELU");
    }

    [Test]
    public void EmptyInnerDimensionGivesTheEpilogueOfZero()
    {
        using var a = Tensor.Zeros(backend, new Shape(2, 3, 0));
        using var b = Tensor.Zeros(backend, new Shape(2, 0, 5));
        using var shift = Tensor.FromArray<float>(backend, [1, -2, 3], new Shape(3));
        using var c = TensorOps.MatMulEpilogue(a, b, new GemmEpilogue(null, shift, null, GemmActivation.Relu));
        var expected = new double[30];
        for (int i = 0; i < 30; i++) expected[i] = Math.Max(0, new double[] { 1, -2, 3 }[i / 5 % 3]);
        TensorAssert.Close(c, expected, 0, 0, "k = 0");
    }

    [Test]
    public void RejectsMisSizedEpilogueVectors()
    {
        using var a = Tensor.Zeros(backend, new Shape(4, 3));
        using var b = Tensor.Zeros(backend, new Shape(3, 5));
        using var wrongRow = Tensor.Zeros(backend, new Shape(5));
        using var wrongCol = Tensor.Zeros(backend, new Shape(4));
        Assert.That(() => TensorOps.MatMulEpilogue(a, b, new GemmEpilogue(wrongRow)), Throws.ArgumentException.With.Message.Contains("RowScale"));
        Assert.That(() => TensorOps.MatMulEpilogue(a, b, new GemmEpilogue(ColumnBias: wrongCol)), Throws.ArgumentException.With.Message.Contains("ColumnBias"));
    }
}
