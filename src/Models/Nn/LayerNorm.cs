namespace Hep.Models.Nn;

/// <summary>Layer norm over the last axis with learnable γ (ones) and β (zeros).</summary>
public sealed class LayerNorm : Module
{
    public LayerNorm(IBackend backend, int features, double eps = 1e-5, DType dtype = DType.Float32)
    {
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Full(backend, new Shape(features), 1.0, dtype));
        Bias = RegisterParameter("bias", Tensor.Zeros(backend, new Shape(features), dtype));
    }

    public double Eps { get; }
    public Variable Weight { get; }
    public Variable Bias { get; }

    public Variable Forward(Variable x) => Fn.LayerNorm(x, Weight, Bias, Eps);
}
