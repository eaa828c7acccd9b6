namespace Hep.Engine.Tests;

/// <summary>
/// float32 GELU forward and backward against the float64 erf formula over the whole range (tails where
/// e^{−x²/2} underflows included), for every span length from 1 to 40 (the short-span and ragged-tail
/// paths) and on special values.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class GeluKernelTests(IBackend backend)
{
    private static double Cdf(double x) => 0.5 * (1 + UnaryOpReference.Erf(x / Math.Sqrt(2)));

    [Test]
    public void Float32ForwardAndBackwardMatchFloat64_AtEverySpanLength()
    {
        for (int n = 1; n <= 40; n++)
        {
            var data = Rand.Doubles(100 + n, n, -12, 12).Select(v => (double)(float)v).ToArray();
            var g = Rand.Doubles(200 + n, n).Select(v => (double)(float)v).ToArray();
            using var x = Tensor.FromArray<float>(backend, Array.ConvertAll(data, v => (float)v), new Shape(n));
            using var gy = Tensor.FromArray<float>(backend, Array.ConvertAll(g, v => (float)v), new Shape(n));
            using var y = TensorOps.Unary(UnaryOp.Gelu, x);
            using var gx = TensorOps.UnaryBackward(UnaryOp.Gelu, x, y, gy);
            var forward = data.Select(v => v * Cdf(v)).ToArray();
            var backward = data.Select((v, i) => g[i] * (Cdf(v) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI))).ToArray();
            // The A&S erf is within 1.5e-7 absolute: |x|·7.5e-8 on x·Φ(x) at worst.
            TensorAssert.Close(y, forward, 1e-6, 2e-6, $"forward, length {n}");
            TensorAssert.Close(gx, backward, 2e-6, 4e-6, $"backward, length {n}");
        }
    }

    [Test]
    public void Float32SpecialValues()
    {
        float[] values = [float.PositiveInfinity, 0f, -0f, 30f, -30f, 1e-30f, -1e-30f, float.NaN, 5f, -5f, 0.5f, -0.5f, 9f, -9f, 13.5f, -13.5f, 100f];
        using var x = Tensor.FromArray<float>(backend, values, new Shape(values.Length));
        var y = TensorOps.Unary(UnaryOp.Gelu, x).ToArray<float>();
        Assert.That(y[0], Is.EqualTo(float.PositiveInfinity), "gelu(+inf)");
        Assert.That(y[1], Is.EqualTo(0f));
        Assert.That(y[3], Is.EqualTo(30f), "gelu(30) = 30");
        Assert.That(y[4], Is.EqualTo(0f).Within(1e-30f), "gelu(-30) = -0");
        Assert.That(y[5], Is.EqualTo(0.5e-30f).Within(1e-36f));
        Assert.That(float.IsNaN(y[7]), "gelu(NaN)");
        Assert.That(y[14], Is.EqualTo(13.5f));
        Assert.That(y[16], Is.EqualTo(100f));
        for (int i = 8; i < 14; i++)
        {
            double v = values[i];
            Assert.That(y[i], Is.EqualTo(v * Cdf(v)).Within(1e-6 * (1 + Math.Abs(v))), $"gelu({v})");
        }
    }
}
