namespace Hep.Autograd.Tests;

/// <summary>
/// The tape takes a leaf's first gradient over instead of copying it when nothing else references the
/// gradient's buffer. These tests pin the values around that shortcut: gradients that share one buffer
/// (Add's backward hands the same tensor to both inputs) must still become independent leaf gradients,
/// and adopted gradients must keep accumulating correctly over several backward passes.
/// </summary>
public class LeafGradientTests
{
    private static readonly IBackend Backend = Backends.Cpu;

    private static Variable Leaf(params double[] values) => Variable.Parameter(Tensor.FromArray<double>(Backend, values, new Shape(values.Length)));

    [Test]
    public void SharedGradientBuffersStayIndependentAcrossAccumulation()
    {
        using var a = Leaf(1, 2, 3);
        using var b = Leaf(4, 5, 6);
        using (var scope = TensorScope.Begin())
        using (var tape = Tape.Begin())
            tape.Backward(Fn.Add(a, b), Tensor.FromArray<double>(Backend, [1.0, 1, 1], new Shape(3)));
        Assert.That(a.Grad!.ToArray<double>(), Is.EqualTo(new[] { 1.0, 1, 1 }));
        Assert.That(b.Grad!.ToArray<double>(), Is.EqualTo(new[] { 1.0, 1, 1 }));
        // A second pass into a only: b's gradient must not move (it would if a and b shared a buffer).
        using (var scope = TensorScope.Begin())
        using (var tape = Tape.Begin())
            tape.Backward(Fn.Scale(a, 3), Tensor.FromArray<double>(Backend, [1.0, 2, 3], new Shape(3)));
        Assert.That(a.Grad!.ToArray<double>(), Is.EqualTo(new[] { 4.0, 7, 10 }));
        Assert.That(b.Grad!.ToArray<double>(), Is.EqualTo(new[] { 1.0, 1, 1 }));
    }

    [Test]
    public void AdoptedGradientsOutliveTheScopeAndAccumulate()
    {
        using var x = Leaf(1, -2, 3, -4);
        for (int pass = 1; pass <= 3; pass++)
        {
            using var scope = TensorScope.Begin();
            using var tape = Tape.Begin();
            // d/dx Σ (x·x) = 2x, through a reshape (its backward hands the leaf a view of a freed buffer).
            var y = Fn.Reshape(Fn.Mul(x, x), 2, 2);
            tape.Backward(y, Tensor.FromArray<double>(Backend, [1.0, 1, 1, 1], new Shape(2, 2)));
        }
        // Scope disposal must not have freed the adopted gradient; three passes accumulate 3 · 2x.
        Assert.That(x.Grad!.ToArray<double>(), Is.EqualTo(new[] { 6.0, -12, 18, -24 }));
        x.ZeroGrad();
        Assert.That(x.Grad, Is.Null);
    }

    [Test]
    public void LeafOutputTakesItsSeed()
    {
        using var x = Leaf(1, 2);
        using var seed = Tensor.FromArray<double>(Backend, [5.0, 7], new Shape(2));
        using (var tape = Tape.Begin())
        {
            tape.Backward(x, seed);
            tape.Backward(x, seed);
        }
        Assert.That(x.Grad!.ToArray<double>(), Is.EqualTo(new[] { 10.0, 14 }));
        Assert.That(seed.ToArray<double>(), Is.EqualTo(new[] { 5.0, 7 }), "the caller's gradOutput is never taken over");
    }

    [Test]
    public void SoleOwnerIsFalseForViewsAndSharedStorage()
    {
        using var t = Tensor.FromArray<double>(Backend, [1.0, 2, 3, 4], new Shape(4));
        Assert.That(t.IsSoleOwner, Is.True);
        using (var alias = t.Alias())
        {
            Assert.That(t.IsSoleOwner, Is.False);
            Assert.That(alias.IsSoleOwner, Is.False);
        }
        Assert.That(t.IsSoleOwner, Is.True);
        using var part = t.Slice(0, 1, 2);
        t.Dispose();
        Assert.That(part.IsSoleOwner, Is.False, "a view that does not cover the whole buffer");
    }
}
