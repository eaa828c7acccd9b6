namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>x.index_select(axis, index) with a 1-D Int32 index.</summary>
    public static Tensor IndexSelect(Tensor x, int axis, Tensor index)
    {
        var backend = SameBackend("IndexSelect", x, index);
        RequireIndex("IndexSelect", index);
        if (index.Rank != 1) throw new ArgumentException($"IndexSelect: index must be 1-D, got {index.Shape}");
        int a = x.Shape.NormalizeAxis(axis, "IndexSelect");
        using var dx = Contiguous(x);
        using var di = Contiguous(index);
        var y = Tensor.Empty(backend, x.Shape.With(a, index.Shape[0]), x.DType);   // every row written (bad indices throw)
        backend.Indexing.IndexSelect(dx, a, di, y);
        return y;
    }

    /// <summary>Adjoint of IndexSelect: a zero tensor of <paramref name="shape"/> with src rows added at index.</summary>
    public static Tensor IndexAdd(Tensor source, int axis, Tensor index, Shape shape)
    {
        var backend = SameBackend("IndexAdd", source, index);
        RequireIndex("IndexAdd", index);
        int a = shape.NormalizeAxis(axis, "IndexAdd");
        using var ds = Contiguous(source);
        using var di = Contiguous(index);
        var y = Tensor.Zeros(backend, shape, source.DType);
        backend.Indexing.IndexAdd(ds, a, di, y);
        return y;
    }

    /// <summary>torch.gather along an axis; index has the output's shape.</summary>
    public static Tensor Gather(Tensor x, int axis, Tensor index)
    {
        var backend = SameBackend("Gather", x, index);
        RequireIndex("Gather", index);
        int a = x.Shape.NormalizeAxis(axis, "Gather");
        if (index.Rank != x.Rank) throw new ArgumentException($"Gather: index {index.Shape} and input {x.Shape} ranks differ");
        for (int i = 0; i < x.Rank; i++)
        {
            if (i != a && index.Shape[i] != x.Shape[i])
                throw new ArgumentException($"Gather: index {index.Shape} and input {x.Shape} differ outside axis {a}");
        }
        using var dx = Contiguous(x);
        using var di = Contiguous(index);
        var y = Tensor.Empty(backend, index.Shape, x.DType);
        backend.Indexing.Gather(dx, a, di, y);
        return y;
    }

    /// <summary>Adjoint of Gather: zeros of <paramref name="shape"/> with src added at index along axis.</summary>
    public static Tensor ScatterAdd(Tensor source, int axis, Tensor index, Shape shape)
    {
        var backend = SameBackend("ScatterAdd", source, index);
        RequireIndex("ScatterAdd", index);
        if (source.Shape != index.Shape) throw new ArgumentException($"ScatterAdd: source {source.Shape} and index {index.Shape} differ");
        int a = shape.NormalizeAxis(axis, "ScatterAdd");
        using var ds = Contiguous(source);
        using var di = Contiguous(index);
        var y = Tensor.Zeros(backend, shape, source.DType);
        backend.Indexing.ScatterAdd(ds, a, di, y);
        return y;
    }

    /// <summary>One-hot rows (n, classes) in <paramref name="dtype"/> from Int32 class indices (n).</summary>
    public static Tensor OneHot(Tensor classes, int numClasses, DType dtype)
    {
        RequireIndex("OneHot", classes);
        if (classes.Rank != 1) throw new ArgumentException($"OneHot: classes must be 1-D, got {classes.Shape}");
        using var ones = Tensor.Full(classes.Backend, new Shape(classes.Shape[0], 1), 1.0, dtype);
        using var idx = classes.Unsqueeze(1);
        return ScatterAdd(ones, 1, idx, new Shape(classes.Shape[0], numClasses));
    }
}
