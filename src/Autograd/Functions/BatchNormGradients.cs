namespace Hep.Autograd;

/// <summary>
/// The gradient buffers of the batch-norm backwards (<see cref="BatchNormFunction"/>,
/// <see cref="BatchNormReluFunction"/>): dx uninitialized (the kernels write every element), dγ and dβ (C)
/// zeroed and only where an input needs them; <see cref="Result"/> returns them in input order.
/// </summary>
internal readonly record struct BatchNormGradients(Tensor Dx, Tensor? DGamma, Tensor? DBeta)
{
    public static BatchNormGradients Allocate(Tensor x, bool[] needs)
    {
        var backend = x.Backend;
        var channels = new Shape(x.Shape[1]);
        return new BatchNormGradients(
            Tensor.Empty(backend, x.Shape, x.DType),
            needs.Length > 1 && needs[1] ? Tensor.Zeros(backend, channels, x.DType) : null,
            needs.Length > 2 && needs[2] ? Tensor.Zeros(backend, channels, x.DType) : null);
    }

    /// <summary>One gradient per input of a function recorded with 1 (x), 2 or 3 (x, γ, β) inputs.</summary>
    public Tensor?[] Result(bool[] needs) => needs.Length switch { 1 => [Dx], 2 => [Dx, DGamma], _ => [Dx, DGamma, DBeta] };
}
