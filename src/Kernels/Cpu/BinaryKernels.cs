using System.Numerics;
using System.Numerics.Tensors;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Broadcasting binary maps y = a ∘ b over <see cref="StridedRows"/>. Per row: both inputs unit-stride
/// → TensorPrimitives span-span; one input stride 0 → span-scalar; otherwise a strided scalar loop.
/// Comparisons produce 1/0 via Vector&lt;T&gt; masks. Deterministic (no reductions).
/// </summary>
internal static class BinaryKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Run(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        string name = op.ToString();
        var av = CpuTensor.Array<T>(a, name);
        var bv = CpuTensor.Array<T>(b, name);
        var yv = CpuTensor.Array<T>(y, name);
        var plan = new StridedRows(a, b, y);
        int n = plan.InnerLength, sa = plan.InnerStrides[0], sb = plan.InnerStrides[1], sy = plan.InnerStrides[2];
        plan.Run(o =>
        {
            if (sy == 1 && sa == 1 && sb == 1) SpanSpan(op, av.AsSpan(o[0], n), bv.AsSpan(o[1], n), yv.AsSpan(o[2], n));
            else if (sy == 1 && sa == 1 && sb == 0) SpanScalar(op, av.AsSpan(o[0], n), bv[o[1]], yv.AsSpan(o[2], n));
            else if (sy == 1 && sa == 0 && sb == 1) ScalarSpan(op, av[o[0]], bv.AsSpan(o[1], n), yv.AsSpan(o[2], n));
            else
            {
                for (int i = 0; i < n; i++) yv[o[2] + i * sy] = Apply(op, av[o[0] + i * sa], bv[o[1] + i * sb]);
            }
        });
    }

    private static T Apply(BinaryOp op, T a, T b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => T.Max(a, b),
        BinaryOp.Min => T.Min(a, b),
        BinaryOp.Pow => T.Pow(a, b),
        BinaryOp.Greater => a > b ? T.One : T.Zero,
        BinaryOp.Less => a < b ? T.One : T.Zero,
        BinaryOp.Equal => a == b ? T.One : T.Zero,
        _ => throw new BackendNotSupportedException(op.ToString(), "cpu", "unknown binary op"),
    };

    private static void SpanSpan(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, y); break;
            case BinaryOp.Min: TensorPrimitives.Min(a, b, y); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); break;
            default: Compare(op, a, b, y); break;
        }
    }

    private static void SpanScalar(BinaryOp op, ReadOnlySpan<T> a, T b, Span<T> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, y); break;
            case BinaryOp.Min: TensorPrimitives.Min(a, b, y); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); break;
            default:
                for (int i = 0; i < a.Length; i++) y[i] = Apply(op, a[i], b);
                break;
        }
    }

    private static void ScalarSpan(BinaryOp op, T a, ReadOnlySpan<T> b, Span<T> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(b, a, y); break;
            case BinaryOp.Min: TensorPrimitives.Min(b, a, y); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); break;
            default:
                for (int i = 0; i < b.Length; i++) y[i] = Apply(op, a, b[i]);
                break;
        }
    }

    private static void Compare(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
    {
        int w = Vector<T>.Count, i = 0;
        for (; i <= a.Length - w; i += w)
        {
            var va = new Vector<T>(a[i..]);
            var vb = new Vector<T>(b[i..]);
            var mask = op switch
            {
                BinaryOp.Greater => Vector.GreaterThan(va, vb),
                BinaryOp.Less => Vector.LessThan(va, vb),
                _ => Vector.Equals(va, vb),
            };
            Vector.ConditionalSelect(mask, Vector<T>.One, Vector<T>.Zero).CopyTo(y[i..]);
        }
        for (; i < a.Length; i++) y[i] = Apply(op, a[i], b[i]);
    }
}
