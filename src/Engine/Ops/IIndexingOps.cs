namespace Hep.Engine.Ops;

/// <summary>Index-driven gathers and their scatter-add adjoints. Data contiguous; indices Int32 contiguous.</summary>
public interface IIndexingOps
{
    /// <summary>y = x.index_select(axis, index): index is 1-D of length m; y has x's shape with axis size m. Writes every element of y (which may be uninitialized).</summary>
    void IndexSelect(Tensor x, int axis, Tensor index, Tensor y);

    /// <summary>Adjoint of IndexSelect: y.index_select(axis, index) += src (duplicates accumulate).</summary>
    void IndexAdd(Tensor source, int axis, Tensor index, Tensor y);

    /// <summary>torch.gather: y[..i..] = x[.. index[..i..] ..] along axis; index and y share a shape. Writes every element of y (which may be uninitialized).</summary>
    void Gather(Tensor x, int axis, Tensor index, Tensor y);

    /// <summary>Adjoint of Gather (torch.scatter_add_): y[.. index[..i..] ..] += src[..i..].</summary>
    void ScatterAdd(Tensor source, int axis, Tensor index, Tensor y);
}
