namespace Hep.Models.Nn;

/// <summary>
/// Pointwise convolution over axis 1 (PyTorch Conv1d/Conv2d with kernel size 1): x (B, C, …) →
/// y (B, O, …) with y[b, o, …] = Σ_c W[o, c]·x[b, c, …] (+ bias[o]). The weight keeps PyTorch's shape
/// (O, C, 1) or (O, C, 1, 1) (<paramref name="spatialDims"/> = 1 or 2) so checkpoints load unchanged;
/// it is viewed as (O, C) for one batched GEMM over all positions.
/// </summary>
public sealed class Conv1x1 : Module
{
    public Conv1x1(IBackend backend, int inChannels, int outChannels, int spatialDims = 1, bool bias = true, ulong seed = 0,
        DType dtype = DType.Float32)
    {
        if (spatialDims is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(spatialDims), "Conv1x1: 0, 1 or 2 spatial dims");
        InChannels = inChannels;
        OutChannels = outChannels;
        var shape = new int[2 + spatialDims];
        shape[0] = outChannels;
        shape[1] = inChannels;
        for (int i = 2; i < shape.Length; i++) shape[i] = 1;
        Weight = RegisterParameter("weight", Init.FanIn(backend, new Shape(shape), inChannels, seed, dtype));
        if (bias) Bias = RegisterParameter("bias", Init.FanIn(backend, new Shape(outChannels), inChannels, seed + 0x5bd1e995, dtype));
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public Variable Weight { get; }
    public Variable? Bias { get; }

    /// <summary>The weight as an (O, C) matrix (a differentiable view).</summary>
    public Variable Matrix() => Weight.Shape.Rank == 2 ? Weight : Fn.Reshape(Weight, OutChannels, InChannels);

    /// <summary>x (B, C, …) → (B, O, …).</summary>
    public Variable Forward(Variable x)
    {
        if (x.Shape.Rank < 2 || x.Shape[1] != InChannels)
            throw new ArgumentException($"Conv1x1: input {x.Shape} must be (B, {InChannels}, …)");
        var dims = x.Shape.ToArray();
        int positions = 1;
        for (int i = 2; i < dims.Length; i++) positions *= dims[i];
        var flat = dims.Length == 3 ? x : Fn.Reshape(x, dims[0], InChannels, positions);
        var y = Fn.MatMul(Matrix(), flat);
        if (Bias is not null) y = Fn.Add(y, Fn.Reshape(Bias, OutChannels, 1));
        if (dims.Length == 3) return y;
        dims[1] = OutChannels;
        return Fn.Reshape(y, dims);
    }
}
