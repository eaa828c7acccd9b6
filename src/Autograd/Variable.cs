namespace Hep.Autograd;

/// <summary>
/// A tensor in the autograd graph. <see cref="Data"/> is the value; <see cref="Grad"/> is the
/// accumulated gradient of a leaf that requires one (parameters), owned by the variable (outside
/// any <see cref="TensorScope"/>) until <see cref="ZeroGrad"/> or <see cref="Dispose"/>.
/// Non-leaf variables carry the tape node that produced them.
/// </summary>
public sealed class Variable : IDisposable
{
    public Variable(Tensor data, bool requiresGrad = false, string? name = null)
    {
        Data = data;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    public Tensor Data { get; private set; }
    public bool RequiresGrad { get; }
    public string? Name { get; set; }

    /// <summary>The gradient accumulated by <see cref="Tape.Backward"/> (leaves only), or null.</summary>
    public Tensor? Grad { get; private set; }

    /// <summary>The node that produced this variable on the active tape (null for leaves and constants).</summary>
    internal TapeNode? Creator { get; set; }

    public bool IsLeaf => Creator is null;
    public Shape Shape => Data.Shape;
    public DType DType => Data.DType;
    public IBackend Backend => Data.Backend;

    /// <summary>A constant (no gradient) wrapping a tensor.</summary>
    public static Variable Constant(Tensor data) => new(data);

    /// <summary>A trainable leaf (gradient accumulated on backward).</summary>
    public static Variable Parameter(Tensor data, string? name = null) => new(data, requiresGrad: true, name);

    /// <summary>Adds <paramref name="gradient"/> into <see cref="Grad"/> (allocating it, outside any scope, on first use).</summary>
    internal void AccumulateGrad(Tensor gradient)
    {
        if (gradient.Shape != Data.Shape)
            throw new InvalidOperationException($"gradient {gradient.Shape} does not match variable {Name ?? ""} {Data.Shape}");
        if (Grad is null)
        {
            Grad = TensorOps.Contiguous(gradient, forceCopy: true).DetachFromScope();
            return;
        }
        TensorOps.AddInPlace(Grad, gradient);
    }

    /// <summary>
    /// Takes <paramref name="gradient"/> over as <see cref="Grad"/> when there is no gradient yet and the
    /// tensor is the sole owner of its buffer (see <see cref="Tensor.IsSoleOwner"/>): no copy, no second
    /// buffer. Returns false (and leaves the tensor to the caller) otherwise.
    /// </summary>
    internal bool TryAdoptGrad(Tensor gradient)
    {
        if (Grad is not null || gradient.Shape != Data.Shape || gradient.DType != Data.DType || !gradient.IsSoleOwner) return false;
        Grad = gradient.DetachFromScope();
        return true;
    }

    /// <summary>Drops the accumulated gradient (frees its buffer).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>Replaces the value (e.g. loading weights); the old tensor is disposed.</summary>
    public void SetData(Tensor data)
    {
        if (data.Shape != Data.Shape) throw new ArgumentException($"SetData: shape {data.Shape} does not match {Data.Shape} for {Name}");
        var old = Data;
        Data = data;
        old.Dispose();
    }

    public void Dispose()
    {
        Data.Dispose();
        ZeroGrad();
    }

    public override string ToString() => $"Variable{(Name is null ? "" : " " + Name)}{Data.Shape} {Data.DType}{(RequiresGrad ? " requires_grad" : "")}";
}
