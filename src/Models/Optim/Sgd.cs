namespace Hep.Models.Optim;

/// <summary>
/// SGD with momentum and L2 weight decay (PyTorch semantics): d = g + λp; b ← μb + d (b₀ = d);
/// p ← p − lr·b, or p ← p − lr·(d + μb) with Nesterov.
/// </summary>
public sealed class Sgd(IEnumerable<Variable> parameters, double learningRate, double momentum = 0, double weightDecay = 0, bool nesterov = false)
    : Optimizer(parameters, learningRate)
{
    protected override void Update(Variable parameter, Tensor grad)
    {
        var p = parameter.Data;
        var d = weightDecay == 0 ? grad.Alias() : TensorOps.Add(grad, TensorOps.Scale(p, weightDecay));
        if (momentum == 0)
        {
            TensorOps.AddInPlace(p, d, -LearningRate);
            return;
        }
        var buffer = State(parameter, 1, out bool first)[0];
        if (first)
        {
            TensorOps.CopyInto(d, buffer);
        }
        else
        {
            TensorOps.UnaryInPlace(UnaryOp.MulScalar, buffer, momentum);
            TensorOps.AddInPlace(buffer, d);
        }
        if (nesterov)
        {
            TensorOps.AddInPlace(d, buffer, momentum);
            TensorOps.AddInPlace(p, d, -LearningRate);
        }
        else
        {
            TensorOps.AddInPlace(p, buffer, -LearningRate);
        }
    }
}
