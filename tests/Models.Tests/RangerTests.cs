using Hep.Models.Optim;

namespace Hep.Models.Tests;

/// <summary>
/// Ranger (RAdam + Lookahead, weaver's defaults) against a float64 reference written here from the published
/// update rules (Liu et al. 2019, Algorithm 2 with weaver's ε placement and decoupled decay; Zhang et al.
/// 2019, Algorithm 1), on every backend: values, the Lookahead sync every k steps, and a state round trip.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
[NonParallelizable]
public class RangerTests(IBackend backend)
{
    private static readonly double[] P0 = [1.0, -2.0, 0.3, 0.75, -0.4];
    private static readonly double[] C = [0.5, 3.0, -1.0, 2.0, 0.1];

    private Variable Param(double[] values, DType dtype) =>
        Variable.Parameter(dtype == DType.Float64
            ? Tensor.FromArray<double>(backend, values, new Shape(values.Length))
            : Tensor.FromArray<float>(backend, values.Select(v => (float)v).ToArray(), new Shape(values.Length)));

    // Loss Σ cᵢ·pᵢ²/2 ⇒ gradient cᵢ·pᵢ (differs from step to step, so every step exercises the moments).
    private void Backward(Variable p)
    {
        using var scope = TensorScope.Begin();
        using var tape = Tape.Begin();
        var ct = Variable.Constant(p.Data.DType == DType.Float64
            ? Tensor.FromArray<double>(backend, C, new Shape(C.Length))
            : Tensor.FromArray<float>(backend, C.Select(v => (float)v).ToArray(), new Shape(C.Length)));
        tape.Backward(Fn.SumAll(Fn.Scale(Fn.Mul(Fn.Square(p), ct), 0.5)));
    }

    private void Train(Variable p, Optimizer opt, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            opt.ZeroGrad();
            Backward(p);
            opt.Step();
        }
    }

    /// <summary>Float64 Ranger on the same quadratic loss, from the published rules.</summary>
    private sealed class Reference(double[] p0, double lr, double beta1, double beta2, double eps, double weightDecay, double alpha, int k)
    {
        public readonly double[] P = (double[])p0.Clone();
        public readonly double[] Slow = (double[])p0.Clone();
        private readonly double[] _m = new double[p0.Length], _v = new double[p0.Length];
        public int T;
        public bool UsedRectified, UsedSgd;

        public void Step()
        {
            T++;
            double rhoInf = 2 / (1 - beta2) - 1;
            double b2t = Math.Pow(beta2, T);
            double rho = rhoInf - 2 * T * b2t / (1 - b2t);
            for (int i = 0; i < P.Length; i++)
            {
                double g = C[i] * P[i];
                _m[i] = beta1 * _m[i] + (1 - beta1) * g;
                _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
                double mHat = _m[i] / (1 - Math.Pow(beta1, T));
                P[i] -= lr * weightDecay * P[i];
                if (rho >= 5)
                {
                    // r_t = sqrt((ρ−4)(ρ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ)); adaptive lr uses v̂ = v/(1−β₂ᵗ) with ε on √v (weaver).
                    double r = Math.Sqrt((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho));
                    P[i] -= lr * r * mHat * Math.Sqrt(1 - b2t) / (Math.Sqrt(_v[i]) + eps);
                    UsedRectified = true;
                }
                else
                {
                    P[i] -= lr * mHat;
                    UsedSgd = true;
                }
            }
            if (T % k == 0)
            {
                for (int i = 0; i < P.Length; i++)
                {
                    Slow[i] += alpha * (P[i] - Slow[i]);
                    P[i] = Slow[i];
                }
            }
        }
    }

    [Test]
    public void MatchesFloat64ReferenceWithWeaverDefaults([Values(DType.Float32, DType.Float64)] DType dtype)
    {
        const double lr = 0.02, wd = 0.05;
        using var p = Param(P0, dtype);
        using var opt = new Ranger([p], lr, weightDecay: wd);
        var reference = new Reference(P0, lr, 0.95, 0.999, 1e-5, wd, 0.5, 6);
        (double atol, double rtol) = dtype == DType.Float64 ? (1e-13, 1e-11) : (1e-6, 1e-5);
        for (int step = 1; step <= 15; step++)
        {
            Train(p, opt, 1);
            reference.Step();
            TensorAssert.Close(p.Data, reference.P, atol, rtol, $"ranger step {step}");
        }
        Assert.That((reference.UsedSgd, reference.UsedRectified), Is.EqualTo((true, true)), "both RAdam branches exercised");
        // The parameters moved far from their start (a no-op optimiser cannot pass).
        Assert.That(p.Data.ToDoubleArray().Zip(P0, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(0.05));
    }

    [Test]
    public void RectificationStartsAtStepSixForBeta2Of0999()
    {
        // ρₜ ≈ t for small t (4.996 at t = 5, 5.994 at t = 6), so the rectified branch starts at t = 6.
        for (int t = 1; t <= 5; t++)
        {
            double s = Ranger.StepSize(t, 0.95, 0.999, out bool rectified);
            Assert.That(rectified, Is.False, $"t={t}");
            Assert.That(s, Is.EqualTo(1 / (1 - Math.Pow(0.95, t))).Within(1e-12));
        }
        double s6 = Ranger.StepSize(6, 0.95, 0.999, out bool r6);
        Assert.That(r6, Is.True);
        // r₆ = √((1−β₂⁶)(ρ₆−4)(ρ₆−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ₆)) / (1−β₁⁶), ρ₆ = 5.994163751655833, ρ∞ = 1999.
        double rho = 5.994163751655833, b2t = Math.Pow(0.999, 6);
        double expected = Math.Sqrt((1 - b2t) * (rho - 4) * (rho - 2) * 1999 / (1995.0 * 1997 * rho)) / (1 - Math.Pow(0.95, 6));
        Assert.That(s6, Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void LookaheadInterpolatesWithSlowWeightsEveryKSteps()
    {
        const int k = 4;
        const double alpha = 0.3;
        using var p = Param(P0, DType.Float64);
        using var fast = Param(P0, DType.Float64);
        using var opt = new Ranger([p], 0.05, alpha: alpha, k: k);
        using var plain = new Ranger([fast], 0.05, alpha: 1, k: k); // α = 1: RAdam alone
        for (int step = 1; step < k; step++)
        {
            Train(p, opt, 1);
            Train(fast, plain, 1);
            TensorAssert.Close(p.Data, fast.Data, 0, 0, $"identical fast weights before the sync (step {step})");
            TensorAssert.Close(Slow(opt), P0, 0, 0, $"slow weights stay at the start (step {step})");
        }
        Train(p, opt, 1);
        Train(fast, plain, 1);
        var fastK = fast.Data.ToDoubleArray();
        var expected = fastK.Zip(P0, (f, s) => alpha * f + (1 - alpha) * s).ToArray();
        TensorAssert.Close(p.Data, expected, 1e-14, 1e-12, "p = αp + (1−α)φ at step k");
        TensorAssert.Close(Slow(opt), expected, 0, 0, "φ ← p at step k");
        Assert.That(fastK.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-3), "the sync moved the weights");
        // Between syncs the slow weights stay put.
        Train(p, opt, k - 1);
        TensorAssert.Close(Slow(opt), expected, 0, 0, "φ unchanged until the next sync");
        Train(p, opt, 1);
        TensorAssert.Close(Slow(opt), p.Data.ToDoubleArray(), 0, 0, "φ ← p at step 2k");
    }

    private static double[] Slow(Optimizer opt) => opt.ExportState().Single().State[2].ToDoubleArray();

    [Test]
    public void StateRoundTripContinuesIdentically()
    {
        using var p = Param(P0, DType.Float32);
        using var opt = new Ranger([p], 0.02, weightDecay: 0.01);
        Train(p, opt, 8);

        // Restore into a fresh parameter and optimiser (host copies, as a checkpoint does), then continue both
        // across the next Lookahead sync (step 12) and the rectified branch.
        var exported = opt.ExportState().ToDictionary(e => e.Parameter, e => e.State.Select(t => t.ToArray<float>()).ToArray());
        Assert.That(exported[0], Has.Length.EqualTo(3));
        using var restoredP = Param(p.Data.ToDoubleArray(), DType.Float32);
        using var restored = new Ranger([restoredP], 0.5, weightDecay: 0.01) { LearningRate = opt.LearningRate };
        var tensors = exported.ToDictionary(kv => kv.Key, kv => kv.Value.Select(a => Tensor.FromArray<float>(backend, a, new Shape(a.Length))).ToArray());
        restored.ImportState(tensors, opt.StepCount);
        foreach (var t in tensors.Values.SelectMany(x => x)) t.Dispose();

        Train(p, opt, 7);
        Train(restoredP, restored, 7);
        Assert.That(restored.StepCount, Is.EqualTo(15));
        TensorAssert.Close(restoredP.Data, p.Data, 0, 0, "restored optimiser continues identically");
        var a = restored.ExportState().Single().State;
        var b = opt.ExportState().Single().State;
        for (int s = 0; s < 3; s++) TensorAssert.Close(a[s], b[s], 0, 0, $"state slot {s}");
        // A restart without the state (fresh moments, fresh slow weights) would differ: the check can fail.
        using var coldP = Param(P0, DType.Float32);
        using var cold = new Ranger([coldP], 0.02, weightDecay: 0.01);
        Train(coldP, cold, 8);
        using var cold2P = Param(coldP.Data.ToDoubleArray(), DType.Float32);
        using var cold2 = new Ranger([cold2P], 0.02, weightDecay: 0.01);
        Train(cold2P, cold2, 7);
        Assert.That(cold2P.Data.ToDoubleArray().Zip(p.Data.ToDoubleArray(), (x, y) => Math.Abs(x - y)).Max(), Is.GreaterThan(1e-3));
    }
}
