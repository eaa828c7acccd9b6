using Hep.Engine.Ops;

namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>Reduces along one axis (keepDim keeps it with size 1).</summary>
    public static Tensor Reduce(ReduceOp op, Tensor x, int axis, bool keepDim = false)
    {
        RequireFloating(op.ToString(), x);
        int a = x.Shape.NormalizeAxis(axis, op.ToString());
        if (x.Shape[a] == 0 && op is ReduceOp.Max or ReduceOp.Min)
            throw new ArgumentException($"{op}: cannot reduce an empty axis {a} of {x.Shape}");
        using var dense = Contiguous(x);
        var outShape = x.Shape.With(a, 1);
        var y = Tensor.Zeros(x.Backend, keepDim ? outShape : x.Shape.Without(a), x.DType);
        x.Backend.Reduction.Reduce(op, dense, a, y);
        return y;
    }

    public static Tensor Sum(Tensor x, int axis, bool keepDim = false) => Reduce(ReduceOp.Sum, x, axis, keepDim);
    public static Tensor Mean(Tensor x, int axis, bool keepDim = false) => Reduce(ReduceOp.Mean, x, axis, keepDim);
    public static Tensor Max(Tensor x, int axis, bool keepDim = false) => Reduce(ReduceOp.Max, x, axis, keepDim);

    /// <summary>Sum of all elements as a rank-0 tensor.</summary>
    public static Tensor SumAll(Tensor x)
    {
        using var flat = Reshape(x, (int)x.Numel);
        using var s = Sum(flat, 0, keepDim: true);
        return s.View([]);
    }

    /// <summary>Int32 argmax along an axis (first on ties).</summary>
    public static Tensor ArgMax(Tensor x, int axis, bool keepDim = false)
    {
        RequireFloating("ArgMax", x);
        int a = x.Shape.NormalizeAxis(axis, "ArgMax");
        if (x.Shape[a] == 0) throw new ArgumentException($"ArgMax: empty axis {a} of {x.Shape}");
        using var dense = Contiguous(x);
        var y = Tensor.Zeros(x.Backend, keepDim ? x.Shape.With(a, 1) : x.Shape.Without(a), DType.Int32);
        x.Backend.Reduction.ArgMax(dense, a, y);
        return y;
    }

    /// <summary>
    /// Sums a broadcast result back to <paramref name="shape"/> (the adjoint of broadcasting):
    /// leading extra axes and axes where <paramref name="shape"/> has size 1 are summed.
    /// </summary>
    public static Tensor SumToShape(Tensor x, Shape shape)
    {
        if (x.Shape == shape) return x.Alias();
        int lead = x.Rank - shape.Rank;
        if (lead < 0) throw new ArgumentException($"SumToShape: {x.Shape} has fewer dims than {shape}");
        Tensor current = x.Alias();
        for (int i = 0; i < lead; i++)
        {
            var next = Sum(current, 0);
            current.Dispose();
            current = next;
        }
        for (int i = 0; i < shape.Rank; i++)
        {
            if (shape[i] == 1 && current.Shape[i] != 1)
            {
                var next = Sum(current, i, keepDim: true);
                current.Dispose();
                current = next;
            }
            else if (shape[i] != current.Shape[i])
            {
                current.Dispose();
                throw new ArgumentException($"SumToShape: {x.Shape} does not broadcast from {shape}");
            }
        }
        return current;
    }
}
