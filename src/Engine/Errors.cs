namespace Hep.Engine;

/// <summary>An op received tensors that live on different backends or devices.</summary>
public sealed class DeviceMismatchException(string op, string detail)
    : InvalidOperationException($"{op}: tensors are on different devices ({detail}); copy explicitly with Tensor.To(backend)")
{
    public string Op { get; } = op;
}

/// <summary>A backend cannot run an op (or a case of it). Never silently falls back elsewhere.</summary>
public sealed class BackendNotSupportedException(string op, string backend, string reason)
    : NotSupportedException($"{op} is not supported on backend '{backend}': {reason}")
{
    public string Op { get; } = op;
    public string Backend { get; } = backend;
}

/// <summary>A tensor was used after it (or its storage) was disposed.</summary>
public sealed class TensorDisposedException(string what)
    : ObjectDisposedException(what, $"{what} was used after being disposed");
