namespace Hep.Models.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov &amp; Hutter; PyTorch AdamW semantics):
/// p ← p(1 − lr·λ); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε). With <c>decoupled: false</c> it is Adam with L2 decay.
/// </summary>
public sealed class AdamW(IEnumerable<Variable> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999,
    double eps = 1e-8, double weightDecay = 0.01, bool decoupled = true) : Optimizer(parameters, learningRate)
{
    protected override void Update(Variable parameter, Tensor grad)
    {
        var p = parameter.Data;
        var g = grad;
        if (weightDecay != 0)
        {
            if (decoupled) TensorOps.UnaryInPlace(UnaryOp.MulScalar, p, 1 - LearningRate * weightDecay);
            else g = TensorOps.Add(grad, TensorOps.Scale(p, weightDecay));
        }
        var state = State(parameter, 2);
        var (m, v) = (state[0], state[1]);
        long t = StepCount;
        TensorOps.UnaryInPlace(UnaryOp.MulScalar, m, beta1);
        TensorOps.AddInPlace(m, g, 1 - beta1);
        TensorOps.UnaryInPlace(UnaryOp.MulScalar, v, beta2);
        TensorOps.AddInPlace(v, TensorOps.Unary(UnaryOp.Square, g), 1 - beta2);
        double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
        var denom = TensorOps.Unary(UnaryOp.Sqrt, v);
        TensorOps.UnaryInPlace(UnaryOp.MulScalar, denom, 1 / Math.Sqrt(bc2));
        TensorOps.UnaryInPlace(UnaryOp.AddScalar, denom, eps);
        var update = TensorOps.Div(m, denom);
        TensorOps.AddInPlace(p, update, -LearningRate / bc1);
    }
}
