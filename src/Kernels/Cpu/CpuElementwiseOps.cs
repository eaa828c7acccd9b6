using System.Numerics;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Elementwise kernels on the CPU. Unary maps run over contiguous spans (TensorPrimitives / Vector&lt;T&gt;)
/// split into one chunk per core; binary maps and Where walk <see cref="StridedRows"/> and use span
/// kernels whenever a row's inner strides are unit (or zero for a broadcast operand).
/// float32 and float64; anything else throws <see cref="BackendNotSupportedException"/>.
/// </summary>
internal sealed class CpuElementwiseOps : IElementwiseOps
{
    private const int ChunkCost = 4;

    public void Unary(UnaryOp op, Tensor x, Tensor y, double alpha = 0, double beta = 0)
    {
        switch (y.DType)
        {
            case DType.Float32: UnaryTyped<float>(op, x, y, alpha, beta); break;
            case DType.Float64: UnaryTyped<double>(op, x, y, alpha, beta); break;
            default: throw new BackendNotSupportedException(op.ToString(), "cpu", $"dtype {y.DType}");
        }
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor gradY, Tensor gradX, double alpha = 0, double beta = 0)
    {
        switch (gradX.DType)
        {
            case DType.Float32: UnaryBackwardTyped<float>(op, x, y, gradY, gradX, alpha, beta); break;
            case DType.Float64: UnaryBackwardTyped<double>(op, x, y, gradY, gradX, alpha, beta); break;
            default: throw new BackendNotSupportedException(op + "Backward", "cpu", $"dtype {gradX.DType}");
        }
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        switch (y.DType)
        {
            case DType.Float32: BinaryKernels<float>.Run(op, a, b, y); break;
            case DType.Float64: BinaryKernels<double>.Run(op, a, b, y); break;
            default: throw new BackendNotSupportedException(op.ToString(), "cpu", $"dtype {y.DType}");
        }
    }

    public void Where(Tensor condition, Tensor a, Tensor b, Tensor y)
    {
        switch (y.DType)
        {
            case DType.Float32: WhereTyped<float>(condition, a, b, y); break;
            case DType.Float64: WhereTyped<double>(condition, a, b, y); break;
            default: throw new BackendNotSupportedException("Where", "cpu", $"dtype {y.DType}");
        }
    }

    private static void UnaryTyped<T>(UnaryOp op, Tensor x, Tensor y, double alpha, double beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = CpuTensor.Array<T>(x, op.ToString());
        var ys = CpuTensor.Array<T>(y, op.ToString());
        int xo = x.Offset, yo = y.Offset;
        CpuParallel.For((int)y.Numel, ChunkCost, (s, e) =>
            UnaryMath<T>.Forward(op, xs.AsSpan(xo + s, e - s), ys.AsSpan(yo + s, e - s), T.CreateTruncating(alpha), T.CreateTruncating(beta)));
    }

    private static void UnaryBackwardTyped<T>(UnaryOp op, Tensor x, Tensor y, Tensor gradY, Tensor gradX, double alpha, double beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string name = op + "Backward";
        var xs = CpuTensor.Array<T>(x, name);
        var ys = CpuTensor.Array<T>(y, name);
        var gs = CpuTensor.Array<T>(gradY, name);
        var gx = CpuTensor.Array<T>(gradX, name);
        int xo = x.Offset, yo = y.Offset, go = gradY.Offset, gxo = gradX.Offset;
        CpuParallel.For((int)gradX.Numel, ChunkCost, (s, e) =>
            UnaryMath<T>.Backward(op, xs.AsSpan(xo + s, e - s), ys.AsSpan(yo + s, e - s), gs.AsSpan(go + s, e - s),
                gx.AsSpan(gxo + s, e - s), T.CreateTruncating(alpha), T.CreateTruncating(beta)));
    }

    private static void WhereTyped<T>(Tensor condition, Tensor a, Tensor b, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cs = CpuTensor.Array<T>(condition, "Where");
        var asr = CpuTensor.Array<T>(a, "Where");
        var bs = CpuTensor.Array<T>(b, "Where");
        var ys = CpuTensor.Array<T>(y, "Where");
        var plan = new StridedRows(condition, a, b, y);
        int n = plan.InnerLength;
        int sc = plan.InnerStrides[0], sa = plan.InnerStrides[1], sb = plan.InnerStrides[2], sy = plan.InnerStrides[3];
        plan.Run(o =>
        {
            int w = Vector<T>.Count, i = 0;
            if (sc == 1 && sa == 1 && sb == 1 && sy == 1)
            {
                for (; i <= n - w; i += w)
                {
                    var mask = Vector.Equals(new Vector<T>(cs, o[0] + i), Vector<T>.Zero);
                    Vector.ConditionalSelect(mask, new Vector<T>(bs, o[2] + i), new Vector<T>(asr, o[1] + i)).CopyTo(ys, o[3] + i);
                }
            }
            for (; i < n; i++)
                ys[o[3] + i * sy] = cs[o[0] + i * sc] != T.Zero ? asr[o[1] + i * sa] : bs[o[2] + i * sb];
        });
    }
}
