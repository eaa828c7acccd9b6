using System.Numerics;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Elementwise kernels on the CPU. Unary (<see cref="UnaryKernels{T}"/>), binary (<see cref="BinaryKernels{T}"/>)
/// and Where walk <see cref="StridedRows"/> segments (one piece per core, long rows split) and use span
/// kernels whenever a segment's inner strides are unit (or zero for a broadcast operand); large outputs
/// are written with non-temporal stores (<see cref="StreamingStores"/>).
/// float32 and float64; anything else throws <see cref="BackendNotSupportedException"/>.
/// </summary>
internal sealed class CpuElementwiseOps : IElementwiseOps
{
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
        where T : unmanaged, IFloatingPointIeee754<T> => UnaryKernels<T>.Forward(op, x, y, alpha, beta);

    private static void UnaryBackwardTyped<T>(UnaryOp op, Tensor x, Tensor y, Tensor gradY, Tensor gradX, double alpha, double beta)
        where T : unmanaged, IFloatingPointIeee754<T> => UnaryKernels<T>.Backward(op, x, y, gradY, gradX, alpha, beta);

    // y = cond ≠ 0 ? a : b. Unit-stride segments use Vector<T> selects (streamed through L1 blocks when the
    // output is large); segments with a strided or broadcast operand use a scalar loop.
    private static void WhereTyped<T>(Tensor condition, Tensor a, Tensor b, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cs = CpuTensor.Array<T>(condition, "Where");
        var asr = CpuTensor.Array<T>(a, "Where");
        var bs = CpuTensor.Array<T>(b, "Where");
        var ys = CpuTensor.Array<T>(y, "Where");
        var plan = new StridedRows(condition, a, b, y);
        int sc = plan.InnerStrides[0], sa = plan.InnerStrides[1], sb = plan.InnerStrides[2], sy = plan.InnerStrides[3];
        bool contiguous = sc == 1 && sa == 1 && sb == 1 && sy == 1;
        bool stream = contiguous && StreamingStores.Pays<T>(plan.Elements);
        plan.Run((o, n) =>
        {
            int oc = o[0], oa = o[1], ob = o[2], oy = o[3];
            if (contiguous && !stream) Select<T>(cs.AsSpan(oc, n), asr.AsSpan(oa, n), bs.AsSpan(ob, n), ys.AsSpan(oy, n));
            else if (contiguous)
            {
                StreamingStores.Blocks(ys.AsSpan(oy, n), stream: true, (s, d) =>
                    Select<T>(cs.AsSpan(oc + s, d.Length), asr.AsSpan(oa + s, d.Length), bs.AsSpan(ob + s, d.Length), d));
            }
            else
            {
                for (int i = 0; i < n; i++) ys[oy + i * sy] = cs[oc + i * sc] != T.Zero ? asr[oa + i * sa] : bs[ob + i * sb];
            }
        });
    }

    private static void Select<T>(ReadOnlySpan<T> c, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector<T>.Count, i = 0;
        for (; i <= y.Length - w; i += w)
        {
            var mask = Vector.Equals(new Vector<T>(c[i..]), Vector<T>.Zero);
            Vector.ConditionalSelect(mask, new Vector<T>(b[i..]), new Vector<T>(a[i..])).CopyTo(y[i..]);
        }
        for (; i < y.Length; i++) y[i] = c[i] != T.Zero ? a[i] : b[i];
    }
}
