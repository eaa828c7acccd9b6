using System.Numerics;
using System.Numerics.Tensors;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Gathers and scatter-adds along one axis; data viewed as (outer, n, inner), contiguous.
/// IndexSelect/IndexAdd move whole inner rows (span copy / span add), split over (outer, index) rows
/// when there are few outer slices (IndexAdd only with distinct indices); Gather/ScatterAdd are
/// per-element. Scatters are parallel only over independent (outer[, inner]) slices and add in index
/// order inside a slice, so duplicates accumulate deterministically. Out-of-range indices throw
/// <see cref="ArgumentOutOfRangeException"/> naming the op.
/// </summary>
internal sealed class CpuIndexingOps : IIndexingOps
{
    public void IndexSelect(Tensor x, int axis, Tensor index, Tensor y) =>
        Dispatch("IndexSelect", x.DType, () => Rows<float>(x, axis, index, y, add: false), () => Rows<double>(x, axis, index, y, add: false),
            () => Rows<int>(x, axis, index, y, add: false));

    public void IndexAdd(Tensor source, int axis, Tensor index, Tensor y) =>
        Dispatch("IndexAdd", source.DType, () => Rows<float>(source, axis, index, y, add: true), () => Rows<double>(source, axis, index, y, add: true), null);

    public void Gather(Tensor x, int axis, Tensor index, Tensor y) =>
        Dispatch("Gather", x.DType, () => Elements<float>(x, axis, index, y, scatter: false), () => Elements<double>(x, axis, index, y, scatter: false),
            () => Elements<int>(x, axis, index, y, scatter: false));

    public void ScatterAdd(Tensor source, int axis, Tensor index, Tensor y) =>
        Dispatch("ScatterAdd", source.DType, () => Elements<float>(source, axis, index, y, scatter: true), () => Elements<double>(source, axis, index, y, scatter: true), null);

    private static void Dispatch(string op, DType dtype, Action f32, Action f64, Action? i32)
    {
        switch (dtype)
        {
            case DType.Float32: f32(); break;
            case DType.Float64: f64(); break;
            case DType.Int32 when i32 is not null: i32(); break;
            default: throw new BackendNotSupportedException(op, "cpu", $"dtype {dtype}");
        }
    }

    // add = false: y[o, j, :] = x[o, index[j], :]   (IndexSelect; x is the source)
    // add = true:  y[o, index[j], :] += x[o, j, :]  (IndexAdd; x is the source rows)
    private static void Rows<T>(Tensor x, int axis, Tensor index, Tensor y, bool add) where T : unmanaged, INumber<T>
    {
        string op = add ? "IndexAdd" : "IndexSelect";
        var xs = CpuTensor.Array<T>(x, op);
        var ys = CpuTensor.Array<T>(y, op);
        var idx = CpuTensor.Span<int>(index, op).ToArray();
        int m = idx.Length;
        var (outer, yn, inner) = CpuTensor.AroundAxis(y.Shape, axis);
        int xn = x.Shape[axis];
        int limit = add ? yn : xn;
        foreach (int i in idx)
        {
            if ((uint)i >= (uint)limit) throw new ArgumentOutOfRangeException(nameof(index), $"{op}: index {i} out of range [0, {limit}) on axis {axis}");
        }
        int xo = x.Offset, yo = y.Offset;
        // Rows j0..j1 of outer slice o. Single-element rows (inner = 1) in a plain loop: a span call per
        // element costs several times the element itself.
        void Rows(int o, int j0, int j1)
        {
            if (inner != 1)
            {
                for (int j = j0; j < j1; j++) Row(o, j);
                return;
            }
            int xb = xo + o * xn, yb = yo + o * yn;
            if (add)
            {
                for (int j = j0; j < j1; j++) ys[yb + idx[j]] += xs[xb + j];
            }
            else
            {
                for (int j = j0; j < j1; j++) ys[yb + j] = xs[xb + idx[j]];
            }
        }
        void Row(int o, int j)
        {
            if (add)
            {
                var dst = ys.AsSpan(yo + (o * yn + idx[j]) * inner, inner);
                TensorPrimitives.Add(dst, xs.AsSpan(xo + (o * xn + j) * inner, inner), dst);
            }
            else
            {
                xs.AsSpan(xo + (o * xn + idx[j]) * inner, inner).CopyTo(ys.AsSpan(yo + (o * yn + j) * inner, inner));
            }
        }
        if (outer < CpuParallel.Threads && (!add || Distinct(idx, limit)))
        {
            // Few outer slices (e.g. rows of a 2-D tensor): split the (o, j) rows instead. A select writes
            // each destination row once; an add does so only when the indices are distinct.
            CpuParallel.For(outer * m, inner, (s, e) =>
            {
                for (int t = s; t < e;)
                {
                    int o = t / m, j0 = t % m, j1 = Math.Min(m, j0 + (e - t));
                    Rows(o, j0, j1);
                    t += j1 - j0;
                }
            });
            return;
        }
        CpuParallel.For(outer, (long)m * inner, (s, e) =>
        {
            for (int o = s; o < e; o++) Rows(o, 0, m);
        });
    }

    // True when no index repeats (indices already checked to lie in [0, limit)).
    private static bool Distinct(int[] idx, int limit)
    {
        var seen = new bool[limit];
        foreach (int i in idx)
        {
            if (seen[i]) return false;
            seen[i] = true;
        }
        return true;
    }

    // scatter = false: y[o, j, i] = x[o, index[o, j, i], i]   (Gather; index has y's shape)
    // scatter = true:  y[o, index[o, j, i], i] += x[o, j, i]  (ScatterAdd; index has x's shape)
    private static void Elements<T>(Tensor x, int axis, Tensor index, Tensor y, bool scatter) where T : unmanaged, INumber<T>
    {
        string op = scatter ? "ScatterAdd" : "Gather";
        var xs = CpuTensor.Array<T>(x, op);
        var ys = CpuTensor.Array<T>(y, op);
        var idx = CpuTensor.Array<int>(index, op);
        int io = index.Offset, xo = x.Offset, yo = y.Offset;
        var (outer, m, inner) = CpuTensor.AroundAxis(index.Shape, axis);
        int xn = x.Shape[axis], yn = y.Shape[axis];
        int limit = scatter ? yn : xn;
        int badIndex = 0;
        bool bad = false;
        CpuParallel.For(outer * inner, m, (s, e) =>
        {
            for (int job = s; job < e; job++)
            {
                int o = job / inner, i = job % inner;
                for (int j = 0; j < m; j++)
                {
                    int k = idx[io + (o * m + j) * inner + i];
                    if ((uint)k >= (uint)limit)
                    {
                        badIndex = k;
                        bad = true;
                        return;
                    }
                    if (scatter) ys[yo + (o * yn + k) * inner + i] += xs[xo + (o * xn + j) * inner + i];
                    else ys[yo + (o * yn + j) * inner + i] = xs[xo + (o * xn + k) * inner + i];
                }
            }
        });
        if (bad) throw new ArgumentOutOfRangeException(nameof(index), $"{op}: index {badIndex} out of range [0, {limit}) on axis {axis}");
    }
}
