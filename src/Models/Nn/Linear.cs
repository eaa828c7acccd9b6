namespace Hep.Models.Nn;

/// <summary>y = x·Wᵀ + b over the last axis; W (out, in), b (out).</summary>
public sealed class Linear : Module
{
    public Linear(IBackend backend, int inFeatures, int outFeatures, bool bias = true, ulong seed = 0, DType dtype = DType.Float32)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Init.FanIn(backend, new Shape(outFeatures, inFeatures), inFeatures, seed, dtype));
        if (bias) Bias = RegisterParameter("bias", Init.FanIn(backend, new Shape(outFeatures), inFeatures, seed + 0x5bd1e995, dtype));
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Variable Weight { get; }
    public Variable? Bias { get; }

    public Variable Forward(Variable x) => Fn.Linear(x, Weight, Bias);
}
