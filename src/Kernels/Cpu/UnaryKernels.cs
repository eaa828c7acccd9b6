using System.Numerics;
using System.Runtime.Intrinsics;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Drives every <see cref="UnaryOp"/> forward (y = f(x)) and backward (gx = g·f'(x)) over
/// <see cref="StridedRows"/> segments, so any shape or view runs on both cores, a single long row included.
/// Unit-stride segments call <see cref="UnaryMath{T}"/> on spans: single-pass ops on cache-sized slices
/// (<see cref="StreamingStores.Cached{T}"/>), multi-pass ops (and all backward formulas) one L1 block at a time (<see cref="StreamingStores.Blocks{T}"/>).
/// Outputs of at least <see cref="StreamingStores.ThresholdBytes"/> are written with non-temporal stores:
/// the simple maps (identity, neg, abs, relu, ±/× scalar, clamp, square, sqrt, reciprocal) in one fused
/// vector pass, the rest through the L1 blocks. Strided segments gather a block into L1, run the span
/// formula and scatter it back. Deterministic (no reductions); y may alias x.
/// </summary>
internal static class UnaryKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int CostPerElement = 4;

    public static void Forward(UnaryOp op, Tensor x, Tensor y, double alpha, double beta)
    {
        string name = op.ToString();
        var xs = CpuTensor.Array<T>(x, name);
        var ys = CpuTensor.Array<T>(y, name);
        T a = T.CreateTruncating(alpha), b = T.CreateTruncating(beta);
        var plan = new StridedRows(x, y);
        int sx = plan.InnerStrides[0], sy = plan.InnerStrides[1];
        bool stream = sy == 1 && StreamingStores.Pays<T>(plan.Elements);
        plan.Run((o, n) =>
        {
            int ox = o[0];
            if (sx == 1 && sy == 1) ForwardSpan(op, xs, ox, ys.AsSpan(o[1], n), a, b, stream);
            else Strided(ys, o[1], sy, n, (s, d) => UnaryMath<T>.Forward(op, Gather(xs, ox + s * sx, sx, d.Length), d, a, b));
        }, CostPerElement);
    }

    public static void Backward(UnaryOp op, Tensor x, Tensor y, Tensor gradY, Tensor gradX, double alpha, double beta)
    {
        string name = op + "Backward";
        var xs = CpuTensor.Array<T>(x, name);
        var ys = CpuTensor.Array<T>(y, name);
        var gs = CpuTensor.Array<T>(gradY, name);
        var gx = CpuTensor.Array<T>(gradX, name);
        T a = T.CreateTruncating(alpha), b = T.CreateTruncating(beta);
        var plan = new StridedRows(x, y, gradY, gradX);
        var st = plan.InnerStrides;
        int sx = st[0], sy = st[1], sg = st[2], sgx = st[3];
        bool stream = sgx == 1 && StreamingStores.Pays<T>(plan.Elements);
        plan.Run((o, n) =>
        {
            int ox = o[0], oy = o[1], og = o[2];
            if (sx == 1 && sy == 1 && sg == 1 && sgx == 1)
            {
                StreamingStores.Blocks(gx.AsSpan(o[3], n), stream, (s, d) =>
                    UnaryMath<T>.Backward(op, xs.AsSpan(ox + s, d.Length), ys.AsSpan(oy + s, d.Length), gs.AsSpan(og + s, d.Length), d, a, b));
            }
            else
            {
                Strided(gx, o[3], sgx, n, (s, d) => UnaryMath<T>.Backward(op, Gather(xs, ox + s * sx, sx, d.Length),
                    Gather(ys, oy + s * sy, sy, d.Length), Gather(gs, og + s * sg, sg, d.Length), d, a, b));
            }
        }, CostPerElement);
    }

    // Unit-stride forward over one segment.
    private static void ForwardSpan(UnaryOp op, T[] xs, int ox, Span<T> y, T a, T b, bool stream)
    {
        if (stream && Fused(op, xs.AsSpan(ox, y.Length), y, a, b)) return;
        if (stream || MultiPass(op)) StreamingStores.Blocks(y, stream, (s, d) => UnaryMath<T>.Forward(op, xs.AsSpan(ox + s, d.Length), d, a, b));
        else StreamingStores.Cached(y, (s, d) => UnaryMath<T>.Forward(op, xs.AsSpan(ox + s, d.Length), d, a, b));
    }

    // Ops whose span formula makes several passes over the output (blocked so that they stay in L1).
    private static bool MultiPass(UnaryOp op) => op is UnaryOp.Softplus or UnaryOp.Clamp or UnaryOp.PowScalar;

    // One streaming vector pass for the simple maps; false for ops without a fused form.
    private static bool Fused(UnaryOp op, ReadOnlySpan<T> x, Span<T> y, T a, T b)
    {
        switch (op)
        {
            case UnaryOp.Identity: StreamingStores.Copy(x, y); break;
            case UnaryOp.Neg: StreamingStores.Map(x, y, default(NegOp)); break;
            case UnaryOp.Abs: StreamingStores.Map(x, y, default(AbsOp)); break;
            case UnaryOp.Relu: StreamingStores.Map(x, y, default(ReluOp)); break;
            case UnaryOp.Clamp: StreamingStores.Map(x, y, new ClampOp(Vector512.Create(a), Vector512.Create(b))); break;
            case UnaryOp.AddScalar: StreamingStores.Map(x, y, new AddScalarOp(Vector512.Create(a))); break;
            case UnaryOp.MulScalar: StreamingStores.Map(x, y, new MulScalarOp(Vector512.Create(a))); break;
            case UnaryOp.Square: StreamingStores.Map(x, y, default(SquareOp)); break;
            case UnaryOp.Sqrt: StreamingStores.Map(x, y, default(SqrtOp)); break;
            case UnaryOp.Reciprocal: StreamingStores.Map(x, y, default(ReciprocalOp)); break;
            default: return false;
        }
        return true;
    }

    // Strided output: each block is computed into scratch by body(start, block) and scattered with stride sy.
    private static void Strided(T[] ys, int oy, int sy, int n, StreamingStores.BlockBody<T> body)
    {
        int block = StreamingStores.BlockBytes / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var scratch = new T[Math.Min(2 * block, n)];
        for (int s = 0, length; s < n; s += length)
        {
            length = n - s < 2 * block ? n - s : block; // the last block takes the remainder, as in StreamingStores.Blocks
            var d = scratch.AsSpan(0, length);
            body(s, d);
            for (int i = 0; i < d.Length; i++) ys[oy + (s + i) * sy] = d[i];
        }
    }

    // count elements from src starting at offset with the given stride, as a span (a copy unless unit stride).
    private static ReadOnlySpan<T> Gather(T[] src, int offset, int stride, int count)
    {
        if (stride == 1) return src.AsSpan(offset, count);
        var g = new T[count];
        for (int i = 0; i < count; i++) g[i] = src[offset + i * stride];
        return g;
    }

    // Vector forms of the fused maps: the same IEEE operations UnaryMath's TensorPrimitives calls apply per lane.
    private readonly struct NegOp : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => -x; }
    private readonly struct AbsOp : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => Vector512.Abs(x); }
    private readonly struct SquareOp : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => x * x; }
    private readonly struct SqrtOp : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => Vector512.Sqrt(x); }
    private readonly struct ReciprocalOp : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => Vector512<T>.One / x; }
    private readonly struct AddScalarOp(Vector512<T> a) : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => x + a; }
    private readonly struct MulScalarOp(Vector512<T> a) : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => x * a; }

    private readonly struct ReluOp : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => Vector512.Max(x, Vector512<T>.Zero); }
    private readonly struct ClampOp(Vector512<T> lo, Vector512<T> hi) : IVectorMap<T> { public Vector512<T> Apply(Vector512<T> x) => Vector512.Min(Vector512.Max(x, lo), hi); }
}
