namespace Hep.Autograd;

/// <summary>
/// Layer norm over the last axis with optional affine γ, β (n). Forward saves per-row mean and rstd;
/// backward uses the backend kernel for dx, dγ, dβ.
/// </summary>
internal sealed class LayerNormFunction : Function
{
    private readonly Tensor _x, _mean, _rstd;
    private readonly Tensor? _gamma;

    public LayerNormFunction(Tensor x, Tensor? gamma, Tensor mean, Tensor rstd)
    {
        _x = Save(x);
        _gamma = gamma is null ? null : Save(gamma);
        _mean = Save(mean);
        _rstd = Save(rstd);
    }

    public override string Name => "LayerNorm";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        int n = _x.Shape[^1];
        var backend = _x.Backend;
        using var gc = TensorOps.Contiguous(g);
        var dx = Tensor.Zeros(backend, _x.Shape, _x.DType);
        bool affine = needs.Length > 1;
        var dGamma = affine && needs[1] ? Tensor.Zeros(backend, new Shape(n), _x.DType) : null;
        var dBeta = needs.Length > 2 && needs[2] ? Tensor.Zeros(backend, new Shape(n), _x.DType) : null;
        backend.Norm.LayerNormBackward(_x, _gamma, _mean, _rstd, gc, dx, dGamma, dBeta);
        return needs.Length switch { 1 => [dx], 2 => [dx, dGamma], _ => [dx, dGamma, dBeta] };
    }
}

public static partial class Fn
{
    /// <summary>Layer norm over the last axis; gamma/beta are both given or both null.</summary>
    public static Variable LayerNorm(Variable x, Variable? gamma, Variable? beta, double eps = 1e-5)
    {
        if ((gamma is null) != (beta is null)) throw new ArgumentException("LayerNorm: give both gamma and beta, or neither");
        int n = x.Shape[^1];
        if (gamma is not null && (gamma.Shape != new Shape(n) || beta!.Shape != new Shape(n)))
            throw new ArgumentException($"LayerNorm: gamma/beta must have shape ({n})");
        var backend = TensorOps.SameBackend("LayerNorm", x.Data, gamma?.Data, beta?.Data);
        using var xc = TensorOps.Contiguous(x.Data);
        int rows = n == 0 ? 0 : (int)(x.Data.Numel / n);
        // Every element of y, mean and rstd is written by the kernels (uninitialized: no clearing pass).
        var y = Tensor.Empty(backend, x.Shape, x.DType);
        using var mean = Tensor.Empty(backend, new Shape(rows), x.DType);
        using var rstd = Tensor.Empty(backend, new Shape(rows), x.DType);
        backend.Norm.LayerNormForward(xc, gamma?.Data, beta?.Data, eps, y, mean, rstd);
        var fn = new LayerNormFunction(xc, gamma?.Data, mean, rstd);
        return gamma is null ? Tape.Record(fn, y, x) : Tape.Record(fn, y, x, gamma, beta!);
    }
}
