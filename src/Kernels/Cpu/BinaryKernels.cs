using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Broadcasting binary maps y = a ∘ b over <see cref="StridedRows"/>. Per row: both inputs unit-stride
/// → TensorPrimitives span-span; one input stride 0 → span-scalar; otherwise a strided scalar loop.
/// Comparisons produce 1/0 via Vector&lt;T&gt; masks. A single long row is split across cores; large float
/// add/multiply outputs use non-temporal stores (<see cref="StreamingStores"/>). Deterministic (no reductions).
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
        if (plan.RowCount == 1 && sy == 1 && sa is 0 or 1 && sb is 0 or 1)
        {
            // One long row (contiguous or scalar-broadcast operands): split it across cores.
            Span<int> first = stackalloc int[3];
            plan.RowOffsets(0, first);
            int oa = first[0], ob = first[1], oy = first[2];
            CpuParallel.For(n, 1, (s, e) => Row(op, av, bv, yv, oa + s * sa, ob + s * sb, oy + s, e - s, sa, sb, 1));
            return;
        }
        plan.Run(o => Row(op, av, bv, yv, o[0], o[1], o[2], n, sa, sb, sy));
    }

    // One row of n elements starting at the given offsets with the given inner strides.
    private static void Row(BinaryOp op, T[] av, T[] bv, T[] yv, int oa, int ob, int oy, int n, int sa, int sb, int sy)
    {
        if (sy == 1 && sa == 1 && sb == 1) SpanSpan(op, av.AsSpan(oa, n), bv.AsSpan(ob, n), yv.AsSpan(oy, n));
        else if (sy == 1 && sa == 1 && sb == 0) SpanScalar(op, av.AsSpan(oa, n), bv[ob], yv.AsSpan(oy, n));
        else if (sy == 1 && sa == 0 && sb == 1) ScalarSpan(op, av[oa], bv.AsSpan(ob, n), yv.AsSpan(oy, n));
        else
        {
            for (int i = 0; i < n; i++) yv[oy + i * sy] = Apply(op, av[oa + i * sa], bv[ob + i * sb]);
        }
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
        if (typeof(T) == typeof(float) && op is BinaryOp.Add or BinaryOp.Mul && StreamingStores.Applies(y.Length))
        {
            StreamingStores.AddOrMultiply(MemoryMarshal.Cast<T, float>(a), MemoryMarshal.Cast<T, float>(b), MemoryMarshal.Cast<T, float>(y), op == BinaryOp.Mul);
            return;
        }
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
