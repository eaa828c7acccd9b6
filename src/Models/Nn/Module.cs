namespace Hep.Models.Nn;

/// <summary>
/// Base of every layer and model: named parameters (trainable leaves) and buffers (e.g. batch-norm
/// running statistics), child modules, and a training flag. Parameter and buffer tensors live outside
/// any <see cref="TensorScope"/> and are freed by <see cref="Dispose"/>. Names follow PyTorch's
/// dotted state-dict convention ("fc.0.weight") so weaver checkpoints map one to one.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Variable Parameter)> _parameters = [];
    private readonly List<(string Name, Tensor Buffer)> _buffers = [];
    private readonly List<(string Name, Module Child)> _children = [];

    public bool Training { get; private set; } = true;

    protected Variable RegisterParameter(string name, Tensor value)
    {
        var p = Variable.Parameter(value.DetachFromScope(), name);
        _parameters.Add((name, p));
        return p;
    }

    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        _buffers.Add((name, value.DetachFromScope()));
        return value;
    }

    protected T RegisterModule<T>(string name, T child) where T : Module
    {
        _children.Add((name, child));
        return child;
    }

    /// <summary>All parameters, depth-first, with dotted names.</summary>
    public IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (n, p) in _parameters) yield return (prefix + n, p);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedParameters(prefix + n + ".")) yield return item;
    }

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (n, b) in _buffers) yield return (prefix + n, b);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedBuffers(prefix + n + ".")) yield return item;
    }

    /// <summary>This module and every descendant, depth-first (registration order).</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var (_, c) in _children)
            foreach (var m in c.Modules()) yield return m;
    }

    public IEnumerable<Variable> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Total number of trainable scalars.</summary>
    public long ParameterCount => Parameters().Sum(p => p.Data.Numel);

    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, c) in _children) c.Train(training);
    }

    public void Eval() => Train(false);

    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    public virtual void Dispose()
    {
        foreach (var (_, p) in _parameters) p.Dispose();
        foreach (var (_, b) in _buffers) b.Dispose();
        foreach (var (_, c) in _children) c.Dispose();
        GC.SuppressFinalize(this);
    }
}
