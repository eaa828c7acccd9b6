namespace Hep.Models.Common;

/// <summary>
/// Row scatter-add and segment mean composed from MatMul with a host-built incidence matrix S (V, E):
/// out = S·source, so the backward (Sᵀ·g) comes from the tested MatMul gradient. Meant for the small
/// per-batch graphs of HeteroNet; cost O(V·E·F).
/// </summary>
internal static class SegmentOps
{
    /// <summary>source (E, F), index (E) in [0, V) → (V, F) with out[v] = Σ_{e: index[e] = v} source[e].</summary>
    public static Variable ScatterAdd(Variable source, int[] index, int segments) => Apply(source, index, segments, mean: false);

    /// <summary>Segment mean (empty segments give 0).</summary>
    public static Variable SegmentMean(Variable source, int[] index, int segments) => Apply(source, index, segments, mean: true);

    private static Variable Apply(Variable source, int[] index, int segments, bool mean)
    {
        int e = source.Shape[0];
        if (index.Length != e) throw new ArgumentException($"Segment op: {index.Length} indices for {e} rows");
        var counts = new int[segments];
        foreach (int i in index)
        {
            if ((uint)i >= (uint)segments) throw new ArgumentOutOfRangeException(nameof(index), $"segment index {i} outside [0, {segments})");
            counts[i]++;
        }
        var s = new double[(long)segments * e];
        for (int j = 0; j < e; j++) s[(long)index[j] * e + j] = mean ? 1.0 / counts[index[j]] : 1.0;
        using var matrix = source.DType == DType.Float64
            ? Tensor.FromArray<double>(source.Backend, s, new Shape(segments, e))
            : Tensor.FromArray<float>(source.Backend, Array.ConvertAll(s, v => (float)v), new Shape(segments, e));
        return Fn.MatMul(Variable.Constant(matrix), source);
    }
}
