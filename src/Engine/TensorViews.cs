namespace Hep.Engine;

/// <summary>Zero-copy views: reshape of contiguous data, permute, transpose, slice, expand, (un)squeeze.</summary>
public sealed partial class Tensor
{
    /// <summary>View with a new shape; requires contiguous data (use TensorOps.Reshape to copy otherwise). One dim may be -1.</summary>
    public Tensor View(params int[] shape)
    {
        var resolved = ResolveShape(shape, Numel, "View");
        if (!IsContiguous) throw new InvalidOperationException($"View: tensor {Shape} is not contiguous; use TensorOps.Reshape");
        return View(resolved, resolved.ContiguousStrides(), Offset);
    }

    /// <summary>Reorders axes: result axis i is this tensor's axis <paramref name="axes"/>[i].</summary>
    public Tensor Permute(params int[] axes)
    {
        if (axes.Length != Rank) throw new ArgumentException($"Permute: {axes.Length} axes for rank {Rank}");
        var seen = new bool[Rank];
        var dims = new int[Rank];
        var strides = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int a = Shape.NormalizeAxis(axes[i], "Permute");
            if (seen[a]) throw new ArgumentException($"Permute: axis {a} repeated");
            seen[a] = true;
            dims[i] = Shape[a];
            strides[i] = _strides[a];
        }
        return View(new Shape(dims), strides, Offset);
    }

    /// <summary>Swaps two axes.</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        var axes = Enumerable.Range(0, Rank).ToArray();
        int a = Shape.NormalizeAxis(axis0, "Transpose"), b = Shape.NormalizeAxis(axis1, "Transpose");
        (axes[a], axes[b]) = (axes[b], axes[a]);
        return Permute(axes);
    }

    /// <summary>Elements [start, start+length) along an axis, with an optional step.</summary>
    public Tensor Slice(int axis, int start, int length, int step = 1)
    {
        int a = Shape.NormalizeAxis(axis, "Slice");
        if (step < 1) throw new ArgumentException("Slice: step must be positive");
        if (start < 0 || length < 0 || (length > 0 && start + (long)(length - 1) * step >= Shape[a]))
            throw new ArgumentException($"Slice: [{start}, +{length} step {step}) is out of range for axis {a} of {Shape}");
        var strides = _strides.ToArray();
        strides[a] *= step;
        return View(Shape.With(a, length), strides, Offset + start * _strides[a]);
    }

    /// <summary>Broadcast view to a larger shape (size-1 dims get stride 0; new leading dims are added).</summary>
    public Tensor Expand(Shape shape)
    {
        if (shape.Rank < Rank) throw new ArgumentException($"Expand: cannot expand {Shape} to fewer dims {shape}");
        var strides = new int[shape.Rank];
        int lead = shape.Rank - Rank;
        for (int i = 0; i < shape.Rank; i++)
        {
            if (i < lead) { strides[i] = 0; continue; }
            int d = Shape[i - lead];
            if (d == shape[i]) strides[i] = _strides[i - lead];
            else if (d == 1) strides[i] = 0;
            else throw new ArgumentException($"Expand: cannot expand {Shape} to {shape}");
        }
        return View(shape, strides, Offset);
    }

    /// <summary>Inserts a size-1 axis at <paramref name="axis"/> (−1 appends).</summary>
    public Tensor Unsqueeze(int axis)
    {
        int a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank) throw new ArgumentException($"Unsqueeze: axis {axis} out of range for {Shape}");
        var dims = Shape.ToArray().ToList();
        var strides = _strides.ToList();
        dims.Insert(a, 1);
        strides.Insert(a, a < Rank ? _strides[a] * Shape[a] : 1);
        return View(new Shape([.. dims]), [.. strides], Offset);
    }

    /// <summary>Removes a size-1 axis.</summary>
    public Tensor Squeeze(int axis)
    {
        int a = Shape.NormalizeAxis(axis, "Squeeze");
        if (Shape[a] != 1) throw new ArgumentException($"Squeeze: axis {a} of {Shape} has size {Shape[a]}, not 1");
        var strides = _strides.ToList();
        strides.RemoveAt(a);
        return View(Shape.Without(a), [.. strides], Offset);
    }

    internal static Shape ResolveShape(int[] shape, long numel, string op)
    {
        var dims = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension may be -1");
                infer = i;
            }
            else known *= dims[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0) throw new ArgumentException($"{op}: cannot infer -1 in [{string.Join(", ", shape)}] for {numel} elements");
            dims[infer] = (int)(numel / known);
        }
        var s = new Shape(dims);
        if (s.Numel != numel) throw new ArgumentException($"{op}: shape {s} does not hold {numel} elements");
        return s;
    }
}
