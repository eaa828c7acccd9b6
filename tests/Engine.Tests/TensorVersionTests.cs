namespace Hep.Engine.Tests;

/// <summary>
/// <see cref="Tensor.Version"/>: 0 for a fresh tensor, shared by every view of a storage, bumped by each
/// TensorOps entry that writes into an existing tensor (and by <see cref="Tensor.MarkModified"/>), left alone
/// by ops that only read their inputs. Caches of derived values (ParT's folded pair embedding) rely on it.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class TensorVersionTests(IBackend backend)
{
    [Test]
    public void FreshTensorsStartAtZeroAndReadsLeaveVersionsAlone()
    {
        using var a = Rand.Tensor(backend, 1, new Shape(3, 4));
        using var b = Rand.Tensor(backend, 2, new Shape(3, 4));
        Assert.That(a.Version, Is.Zero);
        using var sum = TensorOps.Add(a, b);
        using var alias = TensorOps.Contiguous(a);
        using var copy = TensorOps.Contiguous(a, forceCopy: true);
        using var bt = b.Transpose(0, 1);
        using var product = TensorOps.MatMul(a, bt);
        _ = a.ToDoubleArray();
        Assert.That((a.Version, b.Version, sum.Version, copy.Version), Is.EqualTo((0L, 0L, 0L, 0L)));
    }

    [Test]
    public void EveryInPlaceEntryBumpsTheDestinationOnly()
    {
        using var y = Rand.Tensor(backend, 3, new Shape(2, 5));
        using var source = Rand.Tensor(backend, 4, new Shape(2, 5));
        long last = y.Version;
        void Bumped(string op)
        {
            Assert.That(y.Version, Is.GreaterThan(last), op);
            Assert.That(source.Version, Is.Zero, $"{op}: the source is only read");
            last = y.Version;
        }
        TensorOps.BinaryInto(BinaryOp.Mul, y, source, y);
        Bumped("BinaryInto");
        TensorOps.UnaryInPlace(UnaryOp.MulScalar, y, 0.5);
        Bumped("UnaryInPlace");
        TensorOps.AddInPlace(y, source, 0.25);
        Bumped("AddInPlace (scaled)");
        TensorOps.AddInPlace(y, source);
        Bumped("AddInPlace");
        TensorOps.FillInPlace(y, 2);
        Bumped("FillInPlace");
        TensorOps.CopyInto(source, y);
        Bumped("CopyInto");
        y.MarkModified();
        Bumped("MarkModified");
        using var a = Rand.Tensor(backend, 5, new Shape(1, 2, 3));
        using var b = Rand.Tensor(backend, 6, new Shape(1, 3, 5));
        using var y3 = y.View(1, 2, 5);
        TensorOps.MatMulAccumulate(a, b, y3);
        Bumped("MatMulAccumulate");
        Assert.That((a.Version, b.Version), Is.EqualTo((0L, 0L)), "MatMulAccumulate reads its operands only");
    }

    [Test]
    public void ViewsShareTheirStoragesVersion()
    {
        using var x = Tensor.Zeros(backend, new Shape(4, 6));
        using var slice = x.Slice(0, 1, 2);
        using var transposed = x.Transpose(0, 1);
        using var other = Tensor.Zeros(backend, new Shape(4, 6));
        using var ones = Tensor.Full(backend, new Shape(2, 6), 1.0);
        TensorOps.CopyInto(ones, slice); // a write through a view
        Assert.That(x.Version, Is.EqualTo(1));
        Assert.That(transposed.Version, Is.EqualTo(1));
        Assert.That(other.Version, Is.Zero, "another storage");
        x.MarkModified();
        Assert.That(slice.Version, Is.EqualTo(2));
    }
}
