namespace Hep.Engine.Tests;

[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class ViewTests(IBackend backend)
{
    private static double[] Iota(int n) => Enumerable.Range(0, n).Select(i => (double)i).ToArray();

    [Test]
    public void PermuteSharesStorageAndContiguousCopiesInNewOrder()
    {
        using var x = Tensor.FromArray<double>(backend, Iota(24), new Shape(2, 3, 4));
        using var p = x.Permute(2, 0, 1);
        Assert.That(p.Shape, Is.EqualTo(new Shape(4, 2, 3)));
        Assert.That(p.IsContiguous, Is.False);
        var v = p.ToDoubleArray();
        // p[i, j, k] = x[j, k, i] = 12j + 4k + i
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 3; k++)
                    Assert.That(v[i * 6 + j * 3 + k], Is.EqualTo(12 * j + 4 * k + i));
    }

    [Test]
    public void SliceWithStepAndExpandReadTheRightElements()
    {
        using var x = Tensor.FromArray<double>(backend, Iota(20), new Shape(4, 5));
        using var s = x.Slice(1, 1, 2, step: 2); // columns 1 and 3
        Assert.That(s.ToDoubleArray(), Is.EqualTo(new double[] { 1, 3, 6, 8, 11, 13, 16, 18 }));
        using var row = x.Slice(0, 2, 1);
        using var e = row.Expand(new Shape(3, 5));
        Assert.That(e.ToDoubleArray(), Is.EqualTo(Enumerable.Repeat(new double[] { 10, 11, 12, 13, 14 }, 3).SelectMany(a => a).ToArray()));
        Assert.That(e.Strides[0], Is.EqualTo(0));
    }

    [Test]
    public void ReshapeOfNonContiguousViewCopiesAndViewRejectsIt()
    {
        using var x = Tensor.FromArray<double>(backend, Iota(6), new Shape(2, 3));
        using var t = x.Transpose(0, 1);
        using var r = TensorOps.Reshape(t, 6);
        Assert.That(r.ToDoubleArray(), Is.EqualTo(new double[] { 0, 3, 1, 4, 2, 5 }));
        Assert.Throws<InvalidOperationException>(() => t.View(6).Dispose());
    }

    [Test]
    public void ConcatAndSliceCopyRoundTrip()
    {
        using var a = Tensor.FromArray<double>(backend, Iota(6), new Shape(2, 3));
        using var b = Tensor.FromArray<double>(backend, Iota(4).Select(v => v + 100).ToArray(), new Shape(2, 2));
        using var c = TensorOps.Concat([a, b], 1);
        Assert.That(c.ToDoubleArray(), Is.EqualTo(new double[] { 0, 1, 2, 100, 101, 3, 4, 5, 102, 103 }));
        using var back = TensorOps.SliceCopy(c, 1, 3, 2);
        Assert.That(back.ToDoubleArray(), Is.EqualTo(b.ToDoubleArray()));
    }

    [Test]
    public void CastRoundsTowardZeroForIntegers()
    {
        using var x = Tensor.FromArray<float>(backend, [1.7f, -2.5f, 3f], new Shape(3));
        using var i = TensorOps.Cast(x, DType.Int32);
        Assert.That(i.ToArray<int>(), Is.EqualTo(new[] { 1, -2, 3 }));
        using var d = TensorOps.Cast(i, DType.Float64);
        Assert.That(d.ToArray<double>(), Is.EqualTo(new double[] { 1, -2, 3 }));
    }
}
