using Hep.Engine.Diagnostics;
using Hep.Kernels.Cpu;

namespace Hep.Engine.Tests;

[NonParallelizable]
public class LifetimeTests
{
    [Test]
    public void ScopeDisposesTemporariesAndKeepsMovedTensor()
    {
        var backend = Backends.Cpu;
        long before = LiveBufferStats.Count(backend.Name);
        Tensor kept;
        using (var scope = TensorScope.Begin())
        {
            using var a = Tensor.Full(backend, new Shape(100), 2.0);
            var b = TensorOps.Add(a, a);
            var c = TensorOps.Mul(b, a);
            kept = scope.MoveToOuter(c);
            Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before + 3));
        }
        Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before + 1));
        Assert.That(kept.ToArray<float>()[0], Is.EqualTo(8f));
        kept.Dispose();
        Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before));
    }

    [Test]
    public void RecycledHostBuffersComeBackZeroedAndUncounted()
    {
        var backend = Backends.Cpu;
        long before = LiveBufferStats.Count(backend.Name);
        const int n = 5 << 20; // above the clearing split, so the parallel clear runs too
        for (int round = 0; round < 3; round++)
        {
            var buffer = backend.Memory.Allocate(DType.Float32, n);
            var back = new float[n];
            backend.Memory.Download<float>(buffer, 0, back);
            Assert.That(back.All(v => v == 0), Is.True, $"round {round}: a (possibly recycled) buffer starts at zero");
            backend.Memory.Upload<float>(Enumerable.Repeat(7f, n).ToArray(), buffer, 0);
            Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before + 1));
            buffer.Dispose();
            Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before), "a pooled array is not a live buffer");
        }
        using var small = Tensor.Zeros(backend, new Shape(3));
        Assert.That(small.ToArray<float>(), Is.EqualTo(new float[3]));
    }

    [Test]
    public void UninitializedBuffersSkipTheClearAndArePoisonedUnderTest()
    {
        var backend = Backends.Cpu;
        const int n = 1 << 16;
        long before = LiveBufferStats.Count(backend.Name);
        using (var first = Tensor.Full(backend, new Shape(n), 7.0)) { }
        // Recycled or fresh, the buffer carries the test poison (NaN), never a silent zero or old data.
        using (var empty = Tensor.Empty(backend, new Shape(n)))
        {
            Assert.That(empty.ToArray<float>().All(float.IsNaN), Is.True);
            Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before + 1));
        }
        using (var empty = Tensor.Empty(backend, new Shape(n), DType.Int32))
            Assert.That(empty.ToArray<int>().All(v => v == -1), Is.True);
        // Zeros still clears a recycled array.
        using var zeros = Tensor.Zeros(backend, new Shape(n));
        Assert.That(zeros.ToArray<float>().All(v => v == 0), Is.True);
        Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before + 1));
    }

    [Test]
    public void ViewKeepsStorageAliveUntilLastReference()
    {
        var backend = Backends.Cpu;
        long before = LiveBufferStats.Count(backend.Name);
        var x = Tensor.Full(backend, new Shape(4, 4), 1.0);
        var v = x.Transpose(0, 1);
        x.Dispose();
        Assert.That(v.ToArray<float>().Sum(), Is.EqualTo(16f));
        Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before + 1));
        v.Dispose();
        Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(before));
        Assert.Throws<TensorDisposedException>(() => v.ToArray<float>());
    }

    [Test]
    public void MixingBackendsThrowsNamingTheOp()
    {
        using var other = new CpuBackend();
        using var a = Tensor.Full(Backends.Cpu, new Shape(3), 1.0);
        using var b = Tensor.Full(other, new Shape(3), 1.0);
        var ex = Assert.Throws<DeviceMismatchException>(() => TensorOps.Add(a, b));
        Assert.That(ex!.Message, Does.Contain("Add"));
        Assert.That(ex.Op, Is.EqualTo("Add"));
    }

    [Test]
    public void ScopesMustNest()
    {
        var outer = TensorScope.Begin();
        var inner = TensorScope.Begin();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
        Assert.That(TensorScope.Current, Is.Null);
    }
}
