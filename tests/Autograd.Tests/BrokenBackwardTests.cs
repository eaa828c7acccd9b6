namespace Hep.Autograd.Tests;

/// <summary>The gradient check must catch wrong backward formulas, not just pass everything.</summary>
public class BrokenBackwardTests
{
    // y = a ⊙ b whose backward wrongly returns g ⊙ a for da (should be g ⊙ b).
    private sealed class WrongMul : Function
    {
        private readonly Tensor _a, _b;

        public WrongMul(Tensor a, Tensor b)
        {
            _a = Save(a);
            _b = Save(b);
        }

        public override string Name => "WrongMul";

        public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.Mul(g, _a), TensorOps.Mul(g, _a)];
    }

    // Softmax whose backward forgets the −Σ g·y term (a classic bug).
    private sealed class WrongSoftmax : Function
    {
        private readonly Tensor _y;

        public WrongSoftmax(Tensor y) => _y = Save(y);

        public override string Name => "WrongSoftmax";

        public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.Mul(g, _y)];
    }

    // Off by a factor: the scale of a mean reduction dropped.
    private sealed class WrongMean(Shape xShape) : Function
    {
        public override string Name => "WrongMean";

        public override Tensor?[] Backward(Tensor g, bool[] needs)
        {
            using var e = g.Expand(xShape);
            return [TensorOps.Contiguous(e, forceCopy: true)];
        }
    }

    // An op that declares no gradient for its input.
    private sealed class NoBackward : Function
    {
        public override string Name => "Floor";

        public override Tensor?[] Backward(Tensor g, bool[] needs) => [null];
    }

    [Test]
    public void MissingBackwardThrowsInsteadOfGivingZeroGradient()
    {
        var backend = Backends.Cpu;
        using var scope = TensorScope.Begin();
        using var x = Variable.Parameter(Rand.Tensor(backend, 5, new Shape(3)).DetachFromScope(), "x");
        using var tape = Tape.Begin();
        var y = Tape.Record(new NoBackward(), TensorOps.Scale(x.Data, 1), x);
        var loss = Fn.SumAll(Fn.Mul(y, y));
        var ex = Assert.Throws<BackwardNotImplementedException>(() => tape.Backward(loss));
        Assert.That(ex!.Message, Does.Contain("Floor").And.Contain("input 0"));
        Assert.That(x.Grad, Is.Null);
    }

    [Test]
    public void WrongMulIsCaught()
    {
        var backend = Backends.Cpu;
        using var scope = TensorScope.Begin();
        var a = Rand.Tensor(backend, 1, new Shape(3, 4), DType.Float64);
        var b = Rand.Tensor(backend, 2, new Shape(3, 4), DType.Float64);
        var result = GradCheck.Check(v => Tape.Record(new WrongMul(v[0].Data, v[1].Data), TensorOps.Mul(v[0].Data, v[1].Data), v[0], v[1]), [a, b]);
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Report, Does.Contain("input 0"));
        // A correct Mul on the same data passes: the failure is the formula, not the harness.
        Assert.That(GradCheck.Check(v => Fn.Mul(v[0], v[1]), [a, b]).Passed, Is.True);
    }

    [Test]
    public void WrongSoftmaxIsCaught()
    {
        var backend = Backends.Cpu;
        using var scope = TensorScope.Begin();
        var x = Rand.Tensor(backend, 3, new Shape(2, 5), DType.Float64);
        var result = GradCheck.Check(v =>
        {
            var y = TensorOps.Softmax(v[0].Data, -1);
            return Tape.Record(new WrongSoftmax(y), y, v[0]);
        }, [x]);
        Assert.That(result.Passed, Is.False, result.Report);
    }

    [Test]
    public void WrongMeanScaleIsCaught()
    {
        var backend = Backends.Cpu;
        using var scope = TensorScope.Begin();
        var x = Rand.Tensor(backend, 4, new Shape(4, 3), DType.Float64);
        var result = GradCheck.Check(v => Tape.Record(new WrongMean(v[0].Shape), TensorOps.Mean(v[0].Data, 0, keepDim: true), v[0]), [x]);
        Assert.That(result.Passed, Is.False, result.Report);
    }
}
