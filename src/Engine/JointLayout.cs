namespace Hep.Engine;

/// <summary>
/// The iteration layout that every backend's elementwise driver shares: the dims of tensors of one shape,
/// outer to inner, with size-1 dims dropped and adjacent dims merged where they are jointly contiguous
/// in every operand (the outer stride equals the inner stride times the inner size in each), so the
/// innermost run is as long as the layouts allow.
/// </summary>
public static class JointLayout
{
    /// <summary>
    /// Merged dims of <paramref name="operands"/> (which all share one shape) and, per dim, each operand's
    /// stride (Strides[d][k] for operand k). Empty lists for a shape of only size-1 dims (a scalar).
    /// </summary>
    public static (List<int> Dims, List<int[]> Strides) Merge(IReadOnlyList<Tensor> operands)
    {
        var shape = operands[0].Shape;
        int count = operands.Count;
        var dims = new List<int>();
        var strides = new List<int[]>();
        for (int d = 0; d < shape.Rank; d++)
        {
            if (shape[d] == 1) continue;
            var s = new int[count];
            for (int k = 0; k < count; k++) s[k] = operands[k].Strides[d];
            if (dims.Count > 0)
            {
                // Merge with the previous dim when prev stride == this stride · this size for every operand.
                var prev = strides[^1];
                bool merge = true;
                for (int k = 0; k < count && merge; k++) merge = (long)prev[k] == (long)s[k] * shape[d];
                if (merge)
                {
                    dims[^1] *= shape[d];
                    strides[^1] = s;
                    continue;
                }
            }
            dims.Add(shape[d]);
            strides.Add(s);
        }
        return (dims, strides);
    }
}
