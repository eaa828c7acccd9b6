namespace Hep.Engine;

/// <summary>
/// Thread-local dispose scope (TorchSharp pattern). Every tensor created while a scope is current is
/// registered with it and disposed when the scope is disposed, so a training step frees its
/// temporaries deterministically instead of waiting for the GC:
/// <code>
/// using (TensorScope.Begin()) { /* forward, backward, optimizer step */ }
/// </code>
/// Tensors that must outlive the scope are moved out with <see cref="MoveToOuter"/> or
/// <see cref="Tensor.DetachFromScope"/>. Scopes nest and must be disposed in LIFO order.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly TensorScope? _outer;
    private readonly List<Tensor> _owned = [];
    private bool _disposed;

    private TensorScope(TensorScope? outer) => _outer = outer;

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static TensorScope? Current => _current;

    /// <summary>Opens a nested scope and makes it current.</summary>
    public static TensorScope Begin()
    {
        var s = new TensorScope(_current);
        _current = s;
        return s;
    }

    /// <summary>Number of tensors this scope will dispose.</summary>
    public int OwnedCount
    {
        get
        {
            int n = 0;
            foreach (var t in _owned) if (t.Scope == this) n++;
            return n;
        }
    }

    internal void Register(Tensor t)
    {
        if (_disposed) throw new ObjectDisposedException(nameof(TensorScope));
        _owned.Add(t);
    }

    /// <summary>Moves a tensor to the enclosing scope (or to no scope) and returns it.</summary>
    public Tensor MoveToOuter(Tensor t)
    {
        if (t.Scope != this) throw new InvalidOperationException("MoveToOuter: tensor is not owned by this scope");
        t.Scope = _outer;
        _outer?.Register(t);
        return t;
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (_current != this) throw new InvalidOperationException("TensorScope disposed out of order (scopes must nest)");
        _disposed = true;
        _current = _outer;
        foreach (var t in _owned)
        {
            if (t.Scope == this)
            {
                t.Scope = null;
                t.Dispose();
            }
        }
        _owned.Clear();
    }
}
