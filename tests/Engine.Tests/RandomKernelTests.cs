namespace Hep.Engine.Tests;

[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class RandomKernelTests(IBackend backend)
{
    [Test]
    public void DropoutMaskIsReproducibleScaledAndHasTheRightRate()
    {
        int n = 200_000;
        using var m1 = Tensor.Zeros(backend, new Shape(n));
        using var m2 = Tensor.Zeros(backend, new Shape(n));
        backend.Random.DropoutMask(1234, 0.3, m1);
        backend.Random.DropoutMask(1234, 0.3, m2);
        var v1 = m1.ToArray<float>();
        Assert.That(v1, Is.EqualTo(m2.ToArray<float>()));
        float keep = (float)(1 / 0.7);
        Assert.That(v1.All(v => v == 0 || v == keep), Is.True);
        double rate = v1.Count(v => v == 0) / (double)n;
        Assert.That(rate, Is.EqualTo(0.3).Within(0.005));
        // Element i depends only on (seed, i): it matches the scalar generator.
        for (int i = 0; i < 100; i++)
            Assert.That(v1[i], Is.EqualTo(CounterRng.Uniform(1234, i) >= 0.3 ? keep : 0f));
    }

    [Test]
    public void UniformCoversTheRange()
    {
        using var u = Tensor.Zeros(backend, new Shape(100_000), DType.Float64);
        backend.Random.Uniform(7, -2, 3, u);
        var v = u.ToArray<double>();
        Assert.That(v.Min(), Is.GreaterThanOrEqualTo(-2));
        Assert.That(v.Max(), Is.LessThan(3));
        Assert.That(v.Average(), Is.EqualTo(0.5).Within(0.03));
    }
}
