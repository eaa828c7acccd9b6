using Hep.Models.Optim;

namespace Hep.Autograd.Tests;

/// <summary>Optimiser updates against hand-computed PyTorch-semantics references.</summary>
public class OptimizerTests
{
    private static Variable Param(double[] v) => Variable.Parameter(Tensor.FromArray<double>(Backends.Cpu, v, new Shape(v.Length)));

    // Loss Σ cᵢ·pᵢ²/2 ⇒ gradient cᵢ·pᵢ.
    private static void Backward(Variable p, double[] c)
    {
        using var scope = TensorScope.Begin();
        using var tape = Tape.Begin();
        using var ct = Tensor.FromArray<double>(Backends.Cpu, c, new Shape(c.Length));
        tape.Backward(Fn.SumAll(Fn.Scale(Fn.Mul(Fn.Square(p), Variable.Constant(ct)), 0.5)));
    }

    [Test]
    public void SgdMomentumNesterovAndWeightDecay([Values] bool nesterov)
    {
        double[] p0 = [1.0, -2.0], c = [0.5, 3.0];
        using var p = Param(p0);
        using var opt = new Sgd([p], 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: nesterov);
        var reference = (double[])p0.Clone();
        var buf = new double[2];
        for (int step = 0; step < 3; step++)
        {
            opt.ZeroGrad();
            Backward(p, c);
            opt.Step();
            for (int i = 0; i < 2; i++)
            {
                double d = c[i] * reference[i] + 0.01 * reference[i];
                buf[i] = step == 0 ? d : 0.9 * buf[i] + d;
                reference[i] -= 0.1 * (nesterov ? d + 0.9 * buf[i] : buf[i]);
            }
        }
        TensorAssert.Close(p.Data, reference, 1e-14, 1e-12, "sgd");
    }

    [Test]
    public void AdamWMatchesReference()
    {
        double[] p0 = [1.0, -2.0, 0.3], c = [0.5, 3.0, -1.0];
        using var p = Param(p0);
        using var opt = new AdamW([p], 0.01, weightDecay: 0.1);
        var r = (double[])p0.Clone();
        var m = new double[3];
        var v = new double[3];
        for (int t = 1; t <= 4; t++)
        {
            opt.ZeroGrad();
            Backward(p, c);
            opt.Step();
            for (int i = 0; i < 3; i++)
            {
                double g = c[i] * r[i];
                r[i] *= 1 - 0.01 * 0.1;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double mh = m[i] / (1 - Math.Pow(0.9, t)), vh = v[i] / (1 - Math.Pow(0.999, t));
                r[i] -= 0.01 * mh / (Math.Sqrt(vh) + 1e-8);
            }
        }
        TensorAssert.Close(p.Data, r, 1e-12, 1e-9, "adamw");
    }

    [Test]
    public void SchedulesFollowTheirFormulas()
    {
        Assert.That(new StepLr(0.1, [2, 4], 0.5).At(3), Is.EqualTo(0.05).Within(1e-15));
        Assert.That(new CosineLr(1, 10).At(5), Is.EqualTo(0.5).Within(1e-12));
        Assert.That(new CosineLr(1, 10, 0.1).At(10), Is.EqualTo(0.1).Within(1e-12));
        var flat = new FlatDecayLr(1, 10);
        Assert.That(flat.At(6.9), Is.EqualTo(1));
        Assert.That(flat.At(10), Is.EqualTo(0.01).Within(1e-12));
        Assert.That(flat.At(8.5), Is.EqualTo(0.1).Within(1e-12));
    }
}
