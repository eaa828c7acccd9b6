namespace Hep.Engine;

/// <summary>
/// The allocating layer over the backend contract: validates shapes, dtypes and devices once,
/// allocates the destination, and calls the backend of the inputs. Every function returns a fresh
/// tensor and never disposes its inputs.
/// </summary>
public static partial class TensorOps
{
    /// <summary>Throws <see cref="DeviceMismatchException"/> unless all tensors share one backend; returns it.</summary>
    public static IBackend SameBackend(string op, params Tensor?[] tensors)
    {
        IBackend? backend = null;
        foreach (var t in tensors)
        {
            if (t is null) continue;
            t.ThrowIfDisposed();
            if (backend is null) backend = t.Backend;
            else if (!ReferenceEquals(backend, t.Backend))
                throw new DeviceMismatchException(op, string.Join(", ", tensors.Where(x => x is not null).Select(x => x!.Backend.Name)));
        }
        return backend ?? throw new ArgumentException($"{op}: no tensor given");
    }

    /// <summary>Throws unless all tensors share one dtype; returns it.</summary>
    public static DType SameDType(string op, params Tensor?[] tensors)
    {
        DType? dtype = null;
        foreach (var t in tensors)
        {
            if (t is null) continue;
            if (dtype is null) dtype = t.DType;
            else if (dtype != t.DType)
                throw new ArgumentException($"{op}: dtypes differ ({string.Join(", ", tensors.Where(x => x is not null).Select(x => x!.DType))})");
        }
        return dtype ?? throw new ArgumentException($"{op}: no tensor given");
    }

    internal static void RequireFloating(string op, Tensor t)
    {
        if (!t.DType.IsFloating()) throw new ArgumentException($"{op}: needs a floating-point tensor, got {t.DType}");
    }

    internal static void RequireIndex(string op, Tensor t)
    {
        if (t.DType != DType.Int32) throw new ArgumentException($"{op}: indices must be Int32, got {t.DType}");
    }

    /// <summary>Zero-filled tensor with the backend and dtype of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like, Shape? shape = null) =>
        Tensor.Zeros(like.Backend, shape ?? like.Shape, like.DType);
}
