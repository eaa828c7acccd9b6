namespace Hep.Engine.Ops;

/// <summary>Activation a GEMM epilogue applies after its affine part.</summary>
public enum GemmActivation
{
    None,
    Relu,
    /// <summary>Exact (erf) GELU, the formula of <see cref="UnaryOp.Gelu"/>.</summary>
    Gelu,
}

/// <summary>
/// What a fused GEMM applies to every output element before it is stored (while the tile is still in
/// registers on the CPU): c[b, m, n] = act((a·b)[b, m, n]·RowScale[m] + RowShift[m] + ColumnBias[n]).
/// Each part is optional (null = 1 for the scale, 0 for the shifts). Row scale + shift is the eval
/// batch norm of a conv layout W(O×C)·X(C×N) (one pair per output channel); column bias is the bias of
/// a linear layout X(N×C)·Wᵀ(C×O). RowScale/RowShift have M elements, ColumnBias N, all contiguous and
/// of the product's dtype and backend.
/// </summary>
public sealed record GemmEpilogue(Tensor? RowScale = null, Tensor? RowShift = null, Tensor? ColumnBias = null,
    GemmActivation Activation = GemmActivation.None)
{
    /// <summary>Eval batch norm per output row, then the activation: act(x·scale[m] + shift[m]).</summary>
    public static GemmEpilogue RowAffine(Tensor scale, Tensor shift, GemmActivation activation = GemmActivation.None) =>
        new(scale, shift, null, activation);

    /// <summary>Bias per output column, then the activation: act(x + bias[n]).</summary>
    public static GemmEpilogue ColumnBiasThen(Tensor bias, GemmActivation activation = GemmActivation.None) =>
        new(null, null, bias, activation);
}
