namespace Hep.Engine;

/// <summary>
/// A strided view over a reference-counted <see cref="Storage"/> on one backend. Holds no gradient
/// state (that is <c>Hep.Autograd.Variable</c>'s job). Views (reshape, permute, slice, expand) share
/// the storage and hold their own reference; disposing a tensor drops its reference once.
/// Element (i0..ik) lives at <c>Offset + Σ i_j·Strides[j]</c> of the buffer.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private readonly Storage _storage;
    private readonly int[] _strides;
    private bool _disposed;

    internal Tensor(Storage storage, Shape shape, int[] strides, int offset)
    {
        _storage = storage;
        Shape = shape;
        _strides = strides;
        Offset = offset;
        Scope = TensorScope.Current;
        Scope?.Register(this);
    }

    public Shape Shape { get; }
    public ReadOnlySpan<int> Strides => _strides;
    public int Offset { get; }
    public DType DType => _storage.Buffer.DType;
    public IBackend Backend => _storage.Buffer.Backend;
    public int Rank => Shape.Rank;
    public long Numel => Shape.Numel;
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Mutation counter of this tensor's storage, shared by all its views: every <see cref="TensorOps"/> entry
    /// that writes into an existing tensor (BinaryInto, UnaryInPlace, AddInPlace, FillInPlace, CopyInto,
    /// MatMulAccumulate; so optimiser steps, checkpoint loads and batch-norm running-statistic updates) bumps it
    /// after writing. A value derived from a tensor can be cached under (tensor, Version) and is stale once
    /// the version moved. Code writing through a backend directly must call <see cref="MarkModified"/>.
    /// </summary>
    public long Version => _storage.Version;

    /// <summary>Records a write into this tensor's memory (bumps <see cref="Version"/>).</summary>
    public void MarkModified()
    {
        ThrowIfDisposed();
        _storage.BumpVersion();
    }

    /// <summary>The scope that will dispose this tensor, if any.</summary>
    public TensorScope? Scope { get; internal set; }

    /// <summary>The underlying buffer, for backends. Throws if this tensor was disposed.</summary>
    public IDeviceBuffer Buffer
    {
        get
        {
            ThrowIfDisposed();
            return _storage.Buffer;
        }
    }

    /// <summary>True when elements are laid out densely in row-major order (size-1 dims ignored).</summary>
    public bool IsContiguous
    {
        get
        {
            if (Numel == 0) return true;
            long expected = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Shape[i] == 1) continue;
                if (_strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>Allocates a zero-filled contiguous tensor.</summary>
    public static Tensor Zeros(IBackend backend, Shape shape, DType dtype = DType.Float32)
    {
        var buffer = backend.Memory.Allocate(dtype, shape.Numel);
        return new Tensor(new Storage(buffer), shape, shape.ContiguousStrides(), 0);
    }

    /// <summary>
    /// Allocates a contiguous tensor with unspecified contents (see <see cref="Ops.IMemoryOps.AllocateUninitialized"/>):
    /// only for the output of an op that writes every element.
    /// </summary>
    public static Tensor Empty(IBackend backend, Shape shape, DType dtype = DType.Float32)
    {
        var buffer = backend.Memory.AllocateUninitialized(dtype, shape.Numel);
        return new Tensor(new Storage(buffer), shape, shape.ContiguousStrides(), 0);
    }

    /// <summary>Allocates a contiguous tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(IBackend backend, Shape shape, double value, DType dtype = DType.Float32)
    {
        var t = Zeros(backend, shape, dtype);
        if (value != 0) backend.Memory.Fill(t, value);
        return t;
    }

    /// <summary>Uploads host data (row-major) into a new contiguous tensor of the given shape.</summary>
    public static Tensor FromArray<T>(IBackend backend, ReadOnlySpan<T> data, Shape shape) where T : unmanaged
    {
        if (data.Length != shape.Numel)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {shape} ({shape.Numel} elements)");
        var t = Zeros(backend, shape, DTypeExtensions.Of<T>());
        backend.Memory.Upload(data, t.Buffer, 0);
        return t;
    }

    /// <summary>A rank-0 tensor holding one value.</summary>
    public static Tensor Scalar(IBackend backend, double value, DType dtype = DType.Float32) =>
        Full(backend, new Shape(), value, dtype);

    /// <summary>Copies to the host (row-major, densified). Synchronises with the device.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        ThrowIfDisposed();
        if (DTypeExtensions.Of<T>() != DType)
            throw new InvalidOperationException($"ToArray<{typeof(T).Name}>: tensor has dtype {DType}");
        var result = new T[Numel];
        if (IsContiguous)
        {
            Backend.Memory.Download(Buffer, Offset, result.AsSpan());
        }
        else
        {
            using var dense = TensorOps.Contiguous(this);
            Backend.Memory.Download(dense.Buffer, 0, result.AsSpan());
        }
        return result;
    }

    /// <summary>Reads all elements as double regardless of dtype (test and logging helper).</summary>
    public double[] ToDoubleArray() => DType switch
    {
        DType.Float32 => Array.ConvertAll(ToArray<float>(), v => (double)v),
        DType.Float64 => ToArray<double>(),
        DType.Int32 => Array.ConvertAll(ToArray<int>(), v => (double)v),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>The single value of a one-element tensor, as double.</summary>
    public double Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item: tensor of shape {Shape} has {Numel} elements, not 1");
        return ToDoubleArray()[0];
    }

    /// <summary>Explicit copy to another backend (host round trip when both are devices).</summary>
    public Tensor To(IBackend backend)
    {
        ThrowIfDisposed();
        if (ReferenceEquals(backend, Backend)) return TensorOps.Contiguous(this, forceCopy: true);
        return DType switch
        {
            DType.Float32 => FromArray<float>(backend, ToArray<float>(), Shape),
            DType.Float64 => FromArray<double>(backend, ToArray<double>(), Shape),
            DType.Int32 => FromArray<int>(backend, ToArray<int>(), Shape),
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Removes this tensor from its scope so the caller owns it (returns this).</summary>
    public Tensor DetachFromScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>
    /// True when this tensor is the only reference to its storage and covers the whole buffer
    /// contiguously from element 0, so a consumer may take the tensor over instead of copying it
    /// (the autograd tape does this with leaf gradients).
    /// </summary>
    public bool IsSoleOwner => !_disposed && _storage.IsExclusive && Offset == 0 && IsContiguous && _storage.Buffer.Length == Numel;

    /// <summary>A new tensor object sharing this storage and layout (its own reference).</summary>
    public Tensor Alias() => View(Shape, _strides, Offset);

    internal Tensor View(Shape shape, int[] strides, int offset)
    {
        ThrowIfDisposed();
        _storage.AddRef();
        return new Tensor(_storage, shape, strides, offset);
    }

    internal void ThrowIfDisposed()
    {
        if (_disposed || !_storage.IsAlive) throw new TensorDisposedException($"tensor {Shape} {DType}");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _storage.Release();
    }

    public override string ToString() => $"Tensor{Shape} {DType} on {Backend.Name}";
}
