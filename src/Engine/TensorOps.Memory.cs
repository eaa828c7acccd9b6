namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>A contiguous tensor with the same values: an alias when already contiguous (unless forced), else a copy.</summary>
    public static Tensor Contiguous(Tensor x, bool forceCopy = false)
    {
        x.ThrowIfDisposed();
        if (x.IsContiguous && !forceCopy) return x.Alias();
        var y = Tensor.Zeros(x.Backend, x.Shape, x.DType);
        x.Backend.Memory.Copy(x, y);
        return y;
    }

    /// <summary>Reshape: a view when contiguous, otherwise a contiguous copy. One dim may be -1.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        if (x.IsContiguous) return x.View(shape);
        using var dense = Contiguous(x);
        return dense.View(shape);
    }

    /// <summary>Copies values of <paramref name="source"/> into the (possibly strided) view <paramref name="destination"/>.</summary>
    public static void CopyInto(Tensor source, Tensor destination)
    {
        SameBackend("CopyInto", source, destination);
        SameDType("CopyInto", source, destination);
        if (source.Shape != destination.Shape) throw new ArgumentException($"CopyInto: shapes {source.Shape} and {destination.Shape} differ");
        source.Backend.Memory.Copy(source, destination);
        destination.MarkModified();
    }

    /// <summary>Converts to another dtype (a copy even when the dtype matches).</summary>
    public static Tensor Cast(Tensor x, DType dtype)
    {
        var y = Tensor.Zeros(x.Backend, x.Shape, dtype);
        if (dtype == x.DType) x.Backend.Memory.Copy(x, y);
        else x.Backend.Memory.Cast(x, y);
        return y;
    }

    /// <summary>Concatenates along an axis; all other dims must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts, int axis)
    {
        if (parts.Count == 0) throw new ArgumentException("Concat: no tensors");
        var backend = SameBackend("Concat", [.. parts]);
        var dtype = SameDType("Concat", [.. parts]);
        var first = parts[0];
        int a = first.Shape.NormalizeAxis(axis, "Concat");
        int total = 0;
        foreach (var p in parts)
        {
            if (p.Rank != first.Rank) throw new ArgumentException($"Concat: ranks differ ({first.Shape} vs {p.Shape})");
            for (int i = 0; i < p.Rank; i++)
            {
                if (i != a && p.Shape[i] != first.Shape[i])
                    throw new ArgumentException($"Concat: shapes {first.Shape} and {p.Shape} differ outside axis {a}");
            }
            total += p.Shape[a];
        }
        var y = Tensor.Zeros(backend, first.Shape.With(a, total), dtype);
        int start = 0;
        foreach (var p in parts)
        {
            if (p.Shape[a] > 0)
            {
                using var slot = y.Slice(a, start, p.Shape[a]);
                backend.Memory.Copy(p, slot);
            }
            start += p.Shape[a];
        }
        return y;
    }

    /// <summary>A contiguous copy of a slice along an axis.</summary>
    public static Tensor SliceCopy(Tensor x, int axis, int start, int length)
    {
        using var view = x.Slice(axis, start, length);
        return Contiguous(view, forceCopy: true);
    }
}
