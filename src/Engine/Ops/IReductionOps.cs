namespace Hep.Engine.Ops;

public enum ReduceOp
{
    Sum,
    Mean,
    Max,
    Min,
}

/// <summary>Reductions along one axis. The input is contiguous and viewed as (outer, n, inner); output (outer, inner).</summary>
public interface IReductionOps
{
    void Reduce(ReduceOp op, Tensor x, int axis, Tensor y);

    /// <summary>Int32 index of the maximum along the axis (first one on ties).</summary>
    void ArgMax(Tensor x, int axis, Tensor indices);
}
