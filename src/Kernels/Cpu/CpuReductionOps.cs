using System.Numerics;
using System.Numerics.Tensors;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Axis reductions over a contiguous input viewed as (outer, n, inner) → (outer, inner).
/// inner == 1: one TensorPrimitives reduction per row, rows split across cores.
/// inner &gt; 1: rows of length inner are combined with span ops (Add/Max/Min), work split over
/// (outer × inner-blocks). Fixed order of combination, so results are deterministic.
/// </summary>
internal sealed class CpuReductionOps : IReductionOps
{
    private const int InnerBlock = 2048;

    public void Reduce(ReduceOp op, Tensor x, int axis, Tensor y)
    {
        switch (x.DType)
        {
            case DType.Float32: ReduceTyped<float>(op, x, axis, y); break;
            case DType.Float64: ReduceTyped<double>(op, x, axis, y); break;
            default: throw new BackendNotSupportedException(op.ToString(), "cpu", $"dtype {x.DType}");
        }
    }

    public void ArgMax(Tensor x, int axis, Tensor indices)
    {
        switch (x.DType)
        {
            case DType.Float32: ArgMaxTyped<float>(x, axis, indices); break;
            case DType.Float64: ArgMaxTyped<double>(x, axis, indices); break;
            default: throw new BackendNotSupportedException("ArgMax", "cpu", $"dtype {x.DType}");
        }
    }

    private static void ReduceTyped<T>(ReduceOp op, Tensor x, int axis, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string name = op.ToString();
        var xs = CpuTensor.Array<T>(x, name);
        var ys = CpuTensor.Array<T>(y, name);
        int xo = x.Offset, yo = y.Offset;
        var (outer, n, inner) = CpuTensor.AroundAxis(x.Shape, axis);
        T scale = op == ReduceOp.Mean ? T.One / T.CreateTruncating(Math.Max(n, 1)) : T.One;
        if (inner == 1)
        {
            CpuParallel.For(outer, n, (s, e) =>
            {
                for (int o = s; o < e; o++)
                {
                    var row = xs.AsSpan(xo + o * n, n);
                    ys[yo + o] = op switch
                    {
                        ReduceOp.Sum => TensorPrimitives.Sum(row),
                        ReduceOp.Mean => TensorPrimitives.Sum(row) * scale,
                        ReduceOp.Max => TensorPrimitives.Max(row),
                        _ => TensorPrimitives.Min(row),
                    };
                }
            });
            return;
        }
        int blocks = (inner + InnerBlock - 1) / InnerBlock;
        CpuParallel.For(outer * blocks, (long)n * Math.Min(inner, InnerBlock), (s, e) =>
        {
            for (int job = s; job < e; job++)
            {
                int o = job / blocks, b0 = job % blocks * InnerBlock;
                int len = Math.Min(InnerBlock, inner - b0);
                var acc = ys.AsSpan(yo + o * inner + b0, len);
                int baseX = xo + o * n * inner + b0;
                if (n == 0)
                {
                    acc.Clear();
                    continue;
                }
                xs.AsSpan(baseX, len).CopyTo(acc);
                for (int k = 1; k < n; k++)
                {
                    var row = xs.AsSpan(baseX + k * inner, len);
                    switch (op)
                    {
                        case ReduceOp.Sum:
                        case ReduceOp.Mean: TensorPrimitives.Add(acc, row, acc); break;
                        case ReduceOp.Max: TensorPrimitives.Max(acc, row, acc); break;
                        default: TensorPrimitives.Min(acc, row, acc); break;
                    }
                }
                if (op == ReduceOp.Mean) TensorPrimitives.Multiply(acc, scale, acc);
            }
        });
    }

    private static void ArgMaxTyped<T>(Tensor x, int axis, Tensor indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = CpuTensor.Array<T>(x, "ArgMax");
        var idx = CpuTensor.Array<int>(indices, "ArgMax");
        int xo = x.Offset, io = indices.Offset;
        var (outer, n, inner) = CpuTensor.AroundAxis(x.Shape, axis);
        CpuParallel.For(outer * inner, n, (s, e) =>
        {
            for (int job = s; job < e; job++)
            {
                int o = job / inner, i = job % inner;
                int best = 0;
                T bestValue = xs[xo + o * n * inner + i];
                for (int k = 1; k < n; k++)
                {
                    T v = xs[xo + (o * n + k) * inner + i];
                    if (v > bestValue || (T.IsNaN(v) && !T.IsNaN(bestValue)))
                    {
                        best = k;
                        bestValue = v;
                    }
                }
                idx[io + job] = best;
            }
        });
    }
}
