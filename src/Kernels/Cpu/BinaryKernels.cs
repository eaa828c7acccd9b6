using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Broadcasting binary maps y = a ∘ b over <see cref="StridedRows"/> segments (both cores, a single long
/// row included). Per segment: both inputs unit-stride → span-span; one input stride 0 → span-scalar;
/// otherwise a strided scalar loop. Outputs of at least <see cref="StreamingStores.ThresholdBytes"/> are
/// written with non-temporal stores: add/sub/mul/div/max/min as one fused vector pass
/// (<see cref="StreamingStores.Zip{T, TOp}"/>), the rest (pow, comparisons) block by block through L1;
/// smaller outputs are written in cache-sized slices with ordinary stores (<see cref="StreamingStores.Cached{T}"/>).
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
        int sa = plan.InnerStrides[0], sb = plan.InnerStrides[1], sy = plan.InnerStrides[2];
        bool stream = sy == 1 && StreamingStores.Pays<T>(plan.Elements);
        plan.Run((o, n) => Segment(op, av, bv, yv, o[0], o[1], o[2], n, sa, sb, sy, stream), op == BinaryOp.Pow ? 16 : 1);
    }

    // n elements starting at the given offsets with the given inner strides.
    private static void Segment(BinaryOp op, T[] av, T[] bv, T[] yv, int oa, int ob, int oy, int n, int sa, int sb, int sy, bool stream)
    {
        if (sy != 1 || sa is not (0 or 1) || sb is not (0 or 1) || (sa == 0 && sb == 0))
        {
            for (int i = 0; i < n; i++) yv[oy + i * sy] = Apply(op, av[oa + i * sa], bv[ob + i * sb]);
            return;
        }
        var y = yv.AsSpan(oy, n);
        if (!stream) StreamingStores.Cached(y, (s, d) => Unfused(op, av, bv, oa + s * sa, ob + s * sb, sa, sb, d));
        else if (!Fused(op, av, bv, oa, ob, n, sa, sb, y))
            StreamingStores.Blocks(y, stream: true, (s, d) => Unfused(op, av, bv, oa + s * sa, ob + s * sb, sa, sb, d));
    }

    // Unit-stride output; at most one input broadcast (stride 0).
    private static void Unfused(BinaryOp op, T[] av, T[] bv, int oa, int ob, int sa, int sb, Span<T> y)
    {
        int n = y.Length;
        if (sa == 1 && sb == 1) SpanSpan(op, av.AsSpan(oa, n), bv.AsSpan(ob, n), y);
        else if (sb == 0) SpanScalar(op, av.AsSpan(oa, n), bv[ob], y);
        else ScalarSpan(op, av[oa], bv.AsSpan(ob, n), y);
    }

    // One streaming vector pass for the arithmetic ops; false for ops without a fused form.
    private static bool Fused(BinaryOp op, T[] av, T[] bv, int oa, int ob, int n, int sa, int sb, Span<T> y) => op switch
    {
        BinaryOp.Add => Zip(default(AddOp), av, bv, oa, ob, n, sa, sb, y),
        BinaryOp.Sub => Zip(default(SubOp), av, bv, oa, ob, n, sa, sb, y),
        BinaryOp.Mul => Zip(default(MulOp), av, bv, oa, ob, n, sa, sb, y),
        BinaryOp.Div => Zip(default(DivOp), av, bv, oa, ob, n, sa, sb, y),
        BinaryOp.Max => Zip(default(MaxOp), av, bv, oa, ob, n, sa, sb, y),
        BinaryOp.Min => Zip(default(MinOp), av, bv, oa, ob, n, sa, sb, y),
        _ => false,
    };

    private static bool Zip<TOp>(TOp op, T[] av, T[] bv, int oa, int ob, int n, int sa, int sb, Span<T> y) where TOp : struct, IVectorZip<T>
    {
        if (sa == 1 && sb == 1) StreamingStores.Zip(av.AsSpan(oa, n), bv.AsSpan(ob, n), y, op);
        else if (sb == 0) StreamingStores.Map(av.AsSpan(oa, n), y, new ScalarRight<TOp>(op, Vector512.Create(bv[ob])));
        else StreamingStores.Map(bv.AsSpan(ob, n), y, new ScalarLeft<TOp>(op, Vector512.Create(av[oa])));
        return true;
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
            // Commutative: the span-scalar call with the operands swapped.
            case BinaryOp.Add or BinaryOp.Mul or BinaryOp.Max or BinaryOp.Min: SpanScalar(op, b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
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

    // Vector forms of the fused ops: the same IEEE operations TensorPrimitives applies per lane.
    private readonly struct AddOp : IVectorZip<T> { public Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a + b; }
    private readonly struct SubOp : IVectorZip<T> { public Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a - b; }
    private readonly struct MulOp : IVectorZip<T> { public Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a * b; }
    private readonly struct DivOp : IVectorZip<T> { public Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a / b; }
    private readonly struct MaxOp : IVectorZip<T> { public Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b); }
    private readonly struct MinOp : IVectorZip<T> { public Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b); }

    private readonly struct ScalarRight<TOp>(TOp op, Vector512<T> b) : IVectorMap<T> where TOp : struct, IVectorZip<T>
    {
        public Vector512<T> Apply(Vector512<T> x) => op.Apply(x, b);
    }

    private readonly struct ScalarLeft<TOp>(TOp op, Vector512<T> a) : IVectorMap<T> where TOp : struct, IVectorZip<T>
    {
        public Vector512<T> Apply(Vector512<T> x) => op.Apply(a, x);
    }
}
