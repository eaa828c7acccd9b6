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

    public Variable Forward(Variable x) => Apply(x, Weight, Bias, GemmActivation.None);

    /// <summary>act(x·Wᵀ + b): the layer followed by a ReLU or GELU.</summary>
    public Variable Forward(Variable x, GemmActivation activation) => Apply(x, Weight, Bias, activation);

    /// <summary>
    /// act(x·Wᵀ + b) over the last axis of x (…, in), W (out, in), b (out) or null. When nothing is
    /// recorded (no tape: inference) this is one GEMM over all rows with the bias and the activation in
    /// its epilogue (<see cref="TensorOps.MatMulEpilogue"/>: no extra pass for them); otherwise the
    /// differentiable <see cref="Fn.Linear"/> followed by <see cref="Fn.Relu"/> / <see cref="Fn.Gelu"/>.
    /// </summary>
    public static Variable Apply(Variable x, Variable weight, Variable? bias, GemmActivation activation)
    {
        int inF = weight.Shape[1], outF = weight.Shape[0];
        long rows = inF == 0 ? 0 : x.Shape.Numel / inF;
        if (Tape.Current is null && rows > 0 && x.Shape[^1] == inF)
        {
            using var flat = TensorOps.Reshape(x.Data, (int)rows, inF);
            using var wt = weight.Data.Transpose(0, 1);
            using var y = TensorOps.MatMulEpilogue(flat, wt, new GemmEpilogue(ColumnBias: bias?.Data, Activation: activation));
            var shape = x.Shape.ToArray();
            shape[^1] = outF;
            return Variable.Constant(TensorOps.Reshape(y, shape));
        }
        var linear = Fn.Linear(x, weight, bias);
        return activation switch
        {
            GemmActivation.None => linear,
            GemmActivation.Relu => Fn.Relu(linear),
            GemmActivation.Gelu => Fn.Gelu(linear),
            _ => throw new ArgumentException($"Linear: unknown activation {activation}"),
        };
    }
}
