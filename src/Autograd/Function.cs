namespace Hep.Autograd;

/// <summary>
/// A differentiable op recorded on the tape: it saves what its backward needs with <see cref="Save"/>
/// (aliases owned by the function, released when the tape is done) and maps the output gradient to
/// one gradient per input (null where an input gets none). Backward formulas use backend-agnostic
/// <see cref="TensorOps"/>, so every function runs on every backend.
/// </summary>
public abstract class Function : IDisposable
{
    private readonly List<Tensor> _saved = [];

    /// <summary>Op name used in messages.</summary>
    public abstract string Name { get; }

    /// <summary>Keeps a tensor alive for backward regardless of the caller's scope.</summary>
    protected Tensor Save(Tensor t)
    {
        var alias = t.Alias().DetachFromScope();
        _saved.Add(alias);
        return alias;
    }

    /// <summary>Gradients w.r.t. each input, in input order. Must not dispose <paramref name="gradOutput"/>.</summary>
    public abstract Tensor?[] Backward(Tensor gradOutput, bool[] needsGrad);

    public void Dispose()
    {
        foreach (var t in _saved) t.Dispose();
        _saved.Clear();
        GC.SuppressFinalize(this);
    }
}
