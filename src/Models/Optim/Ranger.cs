namespace Hep.Models.Optim;

/// <summary>
/// Ranger: Rectified Adam (Liu et al. 2019) wrapped in Lookahead (Zhang et al. 2019), the default
/// optimiser of weaver, with weaver's defaults (β = (0.95, 0.999), ε = 1e-5, k = 6, α = 0.5, no weight decay).
/// <para>RAdam, per step t (global step count, lr the current learning rate):
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; ρ∞ = 2/(1−β₂) − 1; ρₜ = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ).
/// If ρₜ ≥ 5 (the variance is tractable): p ← p(1 − lr·λ), then p ← p − lr·rₜ/(1−β₁ᵗ) · m/(√v + ε) with
/// rₜ = √((1−β₂ᵗ)(ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ)) (the √(1−β₂ᵗ) bias correction is inside rₜ, so ε is
/// added to the uncorrected √v, as weaver's RAdam does). Otherwise (the first ≈5 steps) it degenerates to
/// momentum SGD: p ← p(1 − lr·λ), then p ← p − lr/(1−β₁ᵗ) · m. The weight decay λ is decoupled and scaled
/// by lr only (not by the adaptive step), exactly as weaver's RAdam.</para>
/// <para>Lookahead: slow weights φ start as the parameter's value before its first update; after every
/// k-th optimiser step p ← αp + (1−α)φ, φ ← p.</para>
/// <para>State per parameter (checkpointed through <see cref="Optimizer.ExportState"/>): [m, v, φ]. The
/// Lookahead phase is the restored step count modulo k, so a restored optimiser continues identically
/// (weaver itself does not save φ and resets it to the loaded weights).</para>
/// <para>Differences from weaver: the step t is the optimiser's global step count (weaver counts per
/// parameter; they agree when every parameter gets a gradient every step), and a parameter without a
/// gradient at a sync step is not pulled back toward φ in that step (weaver interpolates all parameters).</para>
/// </summary>
public sealed class Ranger : Optimizer
{
    /// <summary>ρₜ threshold above which the adaptive (rectified) update is used.</summary>
    public const double SmaThreshold = 5;

    private readonly double _beta1, _beta2, _eps, _weightDecay, _alpha;
    private readonly int _k;

    public Ranger(IEnumerable<Variable> parameters, double learningRate, double beta1 = 0.95, double beta2 = 0.999,
        double eps = 1e-5, double weightDecay = 0, double alpha = 0.5, int k = 6) : base(parameters, learningRate)
    {
        if (learningRate < 0) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "Ranger: learning rate must be ≥ 0");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Ranger: β₁ must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Ranger: β₂ must be in [0, 1)");
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "Ranger: ε must be ≥ 0");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Ranger: Lookahead α must be in [0, 1]");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "Ranger: Lookahead k must be ≥ 1");
        (_beta1, _beta2, _eps, _weightDecay, _alpha, _k) = (beta1, beta2, eps, weightDecay, alpha, k);
    }

    /// <summary>Lookahead synchronisation period k.</summary>
    public int LookaheadSteps => _k;

    /// <summary>Lookahead interpolation factor α (1 recovers plain RAdam).</summary>
    public double LookaheadAlpha => _alpha;

    /// <summary>
    /// RAdam's step multiplier for step t (before the learning rate): rₜ/(1−β₁ᵗ) when ρₜ ≥ 5, else 1/(1−β₁ᵗ);
    /// <paramref name="rectified"/> tells which branch applies.
    /// </summary>
    public static double StepSize(long t, double beta1, double beta2, out bool rectified)
    {
        double beta2T = Math.Pow(beta2, t);
        double rhoInf = 2 / (1 - beta2) - 1;
        double rho = rhoInf - 2 * t * beta2T / (1 - beta2T);
        double bc1 = 1 - Math.Pow(beta1, t);
        rectified = rho >= SmaThreshold;
        if (!rectified) return 1 / bc1;
        double r = (1 - beta2T) * (rho - 4) / (rhoInf - 4) * (rho - 2) / rho * rhoInf / (rhoInf - 2);
        return Math.Sqrt(r) / bc1;
    }

    protected override void Update(Variable parameter, Tensor grad)
    {
        var p = parameter.Data;
        var state = State(parameter, 3, out bool first);
        if (state.Length != 3)
            throw new InvalidOperationException($"Ranger: parameter {parameter.Name} has {state.Length} state tensors, expected 3 (m, v, slow weights)");
        var (m, v, slow) = (state[0], state[1], state[2]);
        if (first) TensorOps.CopyInto(p, slow);

        TensorOps.UnaryInPlace(UnaryOp.MulScalar, v, _beta2);
        TensorOps.AddInPlace(v, TensorOps.Unary(UnaryOp.Square, grad), 1 - _beta2);
        TensorOps.UnaryInPlace(UnaryOp.MulScalar, m, _beta1);
        TensorOps.AddInPlace(m, grad, 1 - _beta1);

        long t = StepCount;
        double stepSize = StepSize(t, _beta1, _beta2, out bool rectified);
        if (_weightDecay != 0) TensorOps.UnaryInPlace(UnaryOp.MulScalar, p, 1 - LearningRate * _weightDecay);
        if (rectified)
        {
            var denom = TensorOps.Unary(UnaryOp.Sqrt, v);
            TensorOps.UnaryInPlace(UnaryOp.AddScalar, denom, _eps);
            TensorOps.AddInPlace(p, TensorOps.Div(m, denom), -LearningRate * stepSize);
        }
        else
        {
            TensorOps.AddInPlace(p, m, -LearningRate * stepSize);
        }

        if (t % _k == 0)
        {
            TensorOps.UnaryInPlace(UnaryOp.MulScalar, p, _alpha);
            TensorOps.AddInPlace(p, slow, 1 - _alpha);
            TensorOps.CopyInto(p, slow);
        }
    }
}
