using Hep.Engine.Diagnostics;
using Hep.Models.Mlp;
using Hep.Models.Optim;

namespace Hep.Autograd.Tests;

/// <summary>End-to-end training steps: memory returns to baseline, loss falls, float32 agrees with float64.</summary>
[NonParallelizable]
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class TrainingTests(IBackend backend)
{
    // Two Gaussian blobs in 6-D, labels 0/1, separable with margin.
    private (Tensor X, Tensor Y) Blobs(int n, int seed, DType dtype = DType.Float32)
    {
        var rng = new Random(seed);
        var x = new double[n * 6];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 2;
            for (int j = 0; j < 6; j++) x[i * 6 + j] = (y[i] == 1 ? 1.0 : -1.0) * (j < 3 ? 1 : 0) + 0.7 * (rng.NextDouble() * 2 - 1);
        }
        var xt = Operands.FromDoubles(backend, x, new Shape(n, 6), dtype);
        return (xt, Tensor.FromArray<int>(backend, y, new Shape(n)));
    }

    private static double Step(MlpClassifier model, Optimizer opt, Tensor x, Tensor y)
    {
        using var scope = TensorScope.Begin();
        using var tape = Tape.Begin();
        var loss = Fn.CrossEntropy(model.Forward(Variable.Constant(x)), y, labelSmoothing: 0.05);
        double value = loss.Data.Item();
        opt.ZeroGrad();
        tape.Backward(loss);
        opt.Step();
        return value;
    }

    [Test]
    public void TrainingStepsLeakNothingAndReduceTheLoss([Values("sgd", "adamw")] string optimizer)
    {
        var (x, y) = Blobs(128, 1);
        using var xs = x;
        using var ys = y;
        using var model = new MlpClassifier(backend, 6, [32, 16], 2, dropout: 0.1, seed: 3);
        using Optimizer opt = optimizer == "sgd"
            ? new Sgd(model.Parameters(), 0.05, momentum: 0.9, weightDecay: 1e-4)
            : new AdamW(model.Parameters(), 0.01);
        double first = Step(model, opt, x, y);
        long baseline = LiveBufferStats.Count(backend.Name);
        long baselineBytes = LiveBufferStats.Bytes(backend.Name);
        double last = first;
        for (int i = 0; i < 30; i++) last = Step(model, opt, x, y);
        Assert.That(LiveBufferStats.Count(backend.Name), Is.EqualTo(baseline), "live buffers after 30 steps");
        Assert.That(LiveBufferStats.Bytes(backend.Name), Is.EqualTo(baselineBytes), "live bytes after 30 steps");
        Assert.That(last, Is.LessThan(first * 0.5), $"loss {first} → {last}");
        model.Eval();
        using var scope = TensorScope.Begin();
        var logits = model.Forward(Variable.Constant(x));
        var pred = TensorOps.ArgMax(logits.Data, 1).ToArray<int>();
        var truth = y.ToArray<int>();
        double accuracy = pred.Zip(truth, (p, t) => p == t ? 1.0 : 0).Average();
        Assert.That(accuracy, Is.GreaterThan(0.95));
    }

    [Test]
    public void Float32GradientsAgreeWithFloat64()
    {
        var (x32, y) = Blobs(16, 2);
        var (x64, _) = Blobs(16, 2, DType.Float64);
        using var a = x32;
        using var b = x64;
        using var labels = y;
        using var m32 = new MlpClassifier(backend, 6, [9, 5], 3, seed: 5, dtype: DType.Float32);
        using var m64 = new MlpClassifier(backend, 6, [9, 5], 3, seed: 5, dtype: DType.Float64);
        // Same initial weights: copy the float32 values into the float64 model.
        foreach (var ((_, p32), (_, p64)) in m32.NamedParameters().Zip(m64.NamedParameters()))
            p64.SetData(TensorOps.Cast(p32.Data, DType.Float64).DetachFromScope());
        foreach (var (model, x) in new[] { (m32, a), (m64, b) })
        {
            using var scope = TensorScope.Begin();
            using var tape = Tape.Begin();
            tape.Backward(Fn.CrossEntropy(model.Forward(Variable.Constant(x)), labels));
        }
        foreach (var ((name, p32), (_, p64)) in m32.NamedParameters().Zip(m64.NamedParameters()))
        {
            var g64 = p64.Grad!.ToDoubleArray();
            double scale = g64.Max(Math.Abs);
            TensorAssert.Close(p32.Grad!, g64, 1e-5 * Math.Max(scale, 1e-3) + 1e-7, 1e-3, name);
        }
    }
}
