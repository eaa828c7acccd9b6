using Hep.Models.Mlp;

namespace Hep.Models.Tests;

/// <summary>The seed-002 HEPMASS MLP (28 → 112 → 112 → 112 → 1): size, shape, gradients and a short fit.</summary>
public class MlpTests
{
    private static IBackend Cpu => Backends.Cpu;

    [Test]
    public void HasTheArticleLayersAndParameterCount()
    {
        using var model = HepmassMlp.Create(Cpu);
        Assert.That(model.ParameterCount, Is.EqualTo(28 * 112 + 112 + 2 * (112 * 112 + 112) + 112 + 1));
        Assert.That(model.ParameterCount, Is.EqualTo(28_673L));
        var shapes = model.NamedParameters().Where(p => p.Name.EndsWith("weight")).Select(p => p.Parameter.Shape.ToString());
        Assert.That(shapes, Is.EqualTo(new[] { "(112, 28)", "(112, 112)", "(112, 112)", "(1, 112)" }));
    }

    [Test]
    public void Float64GradientsAndOneLogitPerRow()
    {
        using var scope = TensorScope.Begin();
        using var model = HepmassMlp.Create(Cpu, seed: 2, dtype: DType.Float64);
        var x = Rand.Tensor(Cpu, 3, new Shape(4, 28), DType.Float64);
        var target = Tensor.FromArray<double>(Cpu, [1, 0, 0, 1], new Shape(4, 1));
        Assert.That(model.Forward(Variable.Constant(x)).Shape, Is.EqualTo(new Shape(4, 1)));
        Support.ParameterGradCheck.AssertPasses(model, () => Fn.BceWithLogits(model.Forward(Variable.Constant(x)), target), maxPerTensor: 15);
    }

    [Test]
    public void FitsASeparableProblemWithAdam()
    {
        var rng = new Random(4);
        int n = 256;
        var x = new float[n * 28];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 2;
            for (int j = 0; j < 28; j++) x[i * 28 + j] = (float)((j < 4 ? (y[i] * 2 - 1) * 0.8 : 0) + rng.NextDouble() * 2 - 1);
        }
        using var xs = Tensor.FromArray<float>(Cpu, x, new Shape(n, 28));
        using var ys = Tensor.FromArray<float>(Cpu, y, new Shape(n, 1));
        using var model = HepmassMlp.Create(Cpu, seed: 3);
        using var opt = new Optim.AdamW(model.Parameters(), 1e-3, weightDecay: 0);
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var scope = TensorScope.Begin();
            using var tape = Tape.Begin();
            var loss = Fn.BceWithLogits(model.Forward(Variable.Constant(xs)), ys);
            if (step == 0) first = loss.Data.Item();
            last = loss.Data.Item();
            opt.ZeroGrad();
            tape.Backward(loss);
            opt.Step();
        }
        Assert.That(first, Is.GreaterThan(0.6));
        Assert.That(last, Is.LessThan(0.2), $"BCE {first:F3} → {last:F3}");
    }
}
