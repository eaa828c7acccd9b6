using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hep.Engine;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>
/// EdgeConv neighbour gathers (channel-first, like weaver's get_graph_feature) and their adjoints.
/// Shapes: x, self, neighbor (B, C, N); index (B, N, K) with values in [0, N); edge tensors (B, C', N, K).
/// Thread mapping: one job per (b, c) feature row. The row x[b, c, :] (N values) stays in L1 while
/// its N·K outputs are written sequentially; index[b] (N·K ints) is shared by the C rows of a jet.
/// Backward scatters into one (b, c) row per job in (n, k) order, so every kernel is deterministic
/// and independent of the core count. Indices are bounds-checked once per call.
///   GatherNeighbors:  y[b,c,n,k] = x[b,c,j]                       gx[b,c,j] += g[b,c,n,k]
///   EdgeFeatures:     y[b,c,n,k] = x[b,c,n], y[b,C+c,n,k] = x[b,c,j] − x[b,c,n]
///                     gx[b,c,n] = Σ_k (g₁ − g₂)[n,k];  gx[b,c,j] += g₂[b,c,n,k]
///   NeighborCombine:  y[b,o,n,k] = self[b,o,n] + neighbor[b,o,j]  gs = Σ_k g;  gnb[b,o,j] += g
/// (j = index[b, n, k] throughout.)
/// </summary>
internal static class EdgeGather<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void GatherNeighbors(Tensor x, Tensor index, Tensor y)
    {
        const string op = "GatherNeighbors";
        var (b, c, n, k) = Dims(x.Shape, index, op);
        var xs = CpuTensor.Array<T>(x, op);
        var ys = CpuTensor.Array<T>(y, op);
        var idx = CpuTensor.Array<int>(index, op);
        int xo = x.Offset, yo = y.Offset, io = index.Offset, nk = n * k;
        CpuParallel.For(b * c, nk, (s, e) =>
        {
            for (int row = s; row < e; row++)
            {
                int bi = row / c;
                Gather(xs.AsSpan(xo + row * n, n), idx.AsSpan(io + bi * nk, nk), ys.AsSpan(yo + row * nk, nk));
            }
        });
    }

    public static void GatherNeighborsBackward(Tensor gradY, Tensor index, Tensor gradX)
    {
        const string op = "GatherNeighborsBackward";
        var (b, c, n, k) = Dims(gradX.Shape, index, op);
        var gs = CpuTensor.Array<T>(gradY, op);
        var gx = CpuTensor.Array<T>(gradX, op);
        var idx = CpuTensor.Array<int>(index, op);
        int go = gradY.Offset, xo = gradX.Offset, io = index.Offset, nk = n * k;
        CpuParallel.For(b * c, nk, (s, e) =>
        {
            for (int row = s; row < e; row++)
            {
                var dst = gx.AsSpan(xo + row * n, n);
                dst.Clear();
                Scatter(gs.AsSpan(go + row * nk, nk), idx.AsSpan(io + row / c * nk, nk), dst);
            }
        });
    }

    public static void EdgeFeatures(Tensor x, Tensor index, Tensor y)
    {
        const string op = "EdgeFeatures";
        var (b, c, n, k) = Dims(x.Shape, index, op);
        var xs = CpuTensor.Array<T>(x, op);
        var ys = CpuTensor.Array<T>(y, op);
        var idx = CpuTensor.Array<int>(index, op);
        int xo = x.Offset, yo = y.Offset, io = index.Offset, nk = n * k;
        CpuParallel.For(b * c, 2L * nk, (s, e) =>
        {
            for (int row = s; row < e; row++)
            {
                int bi = row / c, ci = row % c;
                var xr = xs.AsSpan(xo + row * n, n);
                var self = ys.AsSpan(yo + (bi * 2 * c + ci) * nk, nk);
                var diff = ys.AsSpan(yo + (bi * 2 * c + c + ci) * nk, nk);
                Gather(xr, idx.AsSpan(io + bi * nk, nk), diff);
                for (int p = 0; p < n; p++)
                {
                    var selfRow = self.Slice(p * k, k);
                    selfRow.Fill(xr[p]);
                    var diffRow = diff.Slice(p * k, k);
                    TensorPrimitives.Subtract(diffRow, selfRow, diffRow);
                }
            }
        });
    }

    public static void EdgeFeaturesBackward(Tensor gradY, Tensor index, Tensor gradX)
    {
        const string op = "EdgeFeaturesBackward";
        var (b, c, n, k) = Dims(gradX.Shape, index, op);
        var gs = CpuTensor.Array<T>(gradY, op);
        var gx = CpuTensor.Array<T>(gradX, op);
        var idx = CpuTensor.Array<int>(index, op);
        int go = gradY.Offset, xo = gradX.Offset, io = index.Offset, nk = n * k;
        CpuParallel.For(b * c, 2L * nk, (s, e) =>
        {
            for (int row = s; row < e; row++)
            {
                int bi = row / c, ci = row % c;
                var g1 = gs.AsSpan(go + (bi * 2 * c + ci) * nk, nk);
                var g2 = gs.AsSpan(go + (bi * 2 * c + c + ci) * nk, nk);
                var dst = gx.AsSpan(xo + row * n, n);
                // ∂/∂x_i of [x_i, x_j − x_i]: Σ_k g₁ − Σ_k g₂; ∂/∂x_j: g₂ scattered to j.
                for (int p = 0; p < n; p++) dst[p] = TensorPrimitives.Sum<T>(g1.Slice(p * k, k)) - TensorPrimitives.Sum<T>(g2.Slice(p * k, k));
                Scatter(g2, idx.AsSpan(io + bi * nk, nk), dst);
            }
        });
    }

    public static void NeighborCombine(Tensor self, Tensor neighbor, Tensor index, Tensor y)
    {
        const string op = "NeighborCombine";
        var (b, c, n, k) = Dims(self.Shape, index, op);
        var ss = CpuTensor.Array<T>(self, op);
        var ns = CpuTensor.Array<T>(neighbor, op);
        var ys = CpuTensor.Array<T>(y, op);
        var idx = CpuTensor.Array<int>(index, op);
        int so = self.Offset, no = neighbor.Offset, yo = y.Offset, io = index.Offset, nk = n * k;
        CpuParallel.For(b * c, nk, (s, e) =>
        {
            for (int row = s; row < e; row++)
            {
                var sr = ss.AsSpan(so + row * n, n);
                var dst = ys.AsSpan(yo + row * nk, nk);
                Gather(ns.AsSpan(no + row * n, n), idx.AsSpan(io + row / c * nk, nk), dst);
                for (int p = 0; p < n; p++)
                {
                    var edgeRow = dst.Slice(p * k, k);
                    TensorPrimitives.Add(edgeRow, sr[p], edgeRow);
                }
            }
        });
    }

    public static void NeighborCombineBackward(Tensor gradY, Tensor index, Tensor gradSelf, Tensor gradNeighbor)
    {
        const string op = "NeighborCombineBackward";
        var (b, c, n, k) = Dims(gradSelf.Shape, index, op);
        var gs = CpuTensor.Array<T>(gradY, op);
        var gSelf = CpuTensor.Array<T>(gradSelf, op);
        var gNb = CpuTensor.Array<T>(gradNeighbor, op);
        var idx = CpuTensor.Array<int>(index, op);
        int go = gradY.Offset, so = gradSelf.Offset, no = gradNeighbor.Offset, io = index.Offset, nk = n * k;
        CpuParallel.For(b * c, 2L * nk, (s, e) =>
        {
            for (int row = s; row < e; row++)
            {
                var g = gs.AsSpan(go + row * nk, nk);
                var selfRow = gSelf.AsSpan(so + row * n, n);
                for (int p = 0; p < n; p++) selfRow[p] = TensorPrimitives.Sum<T>(g.Slice(p * k, k));
                var nbRow = gNb.AsSpan(no + row * n, n);
                nbRow.Clear();
                Scatter(g, idx.AsSpan(io + row / c * nk, nk), nbRow);
            }
        });
    }

    // dst[m] = src[index[m]]; indices were bounds-checked against src.Length by Dims.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gather(ReadOnlySpan<T> src, ReadOnlySpan<int> index, Span<T> dst)
    {
        ref T s = ref MemoryMarshal.GetReference(src);
        ref int ix = ref MemoryMarshal.GetReference(index);
        ref T d = ref MemoryMarshal.GetReference(dst);
        int m = 0, len = dst.Length;
        for (; m + 4 <= len; m += 4)
        {
            Unsafe.Add(ref d, m) = Unsafe.Add(ref s, Unsafe.Add(ref ix, m));
            Unsafe.Add(ref d, m + 1) = Unsafe.Add(ref s, Unsafe.Add(ref ix, m + 1));
            Unsafe.Add(ref d, m + 2) = Unsafe.Add(ref s, Unsafe.Add(ref ix, m + 2));
            Unsafe.Add(ref d, m + 3) = Unsafe.Add(ref s, Unsafe.Add(ref ix, m + 3));
        }
        for (; m < len; m++) Unsafe.Add(ref d, m) = Unsafe.Add(ref s, Unsafe.Add(ref ix, m));
    }

    // dst[index[m]] += src[m] in m order (deterministic); indices bounds-checked by Dims.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scatter(ReadOnlySpan<T> src, ReadOnlySpan<int> index, Span<T> dst)
    {
        ref T s = ref MemoryMarshal.GetReference(src);
        ref int ix = ref MemoryMarshal.GetReference(index);
        ref T d = ref MemoryMarshal.GetReference(dst);
        for (int m = 0; m < src.Length; m++) Unsafe.Add(ref d, Unsafe.Add(ref ix, m)) += Unsafe.Add(ref s, m);
    }

    // (B, C, N, K) from a (B, C, N) node shape and a (B, N, K) index whose values are checked to lie in [0, N).
    private static (int B, int C, int N, int K) Dims(Shape nodes, Tensor index, string op)
    {
        int b = nodes[0], c = nodes[1], n = nodes[2], k = index.Shape[2];
        var idx = CpuTensor.Span<int>(index, op);
        if (!IndexRange.AllBelow(idx, n)) IndexRange.Throw(idx, n, op);
        return (b, c, n, k);
    }
}
