namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Shape of a strided iteration, right-aligned into six dims (leading dims are 1). Passed by value to
/// kernels so that strided and broadcast (stride-0) views are read in place instead of being
/// densified on the host. Built by <see cref="StridedLayout"/>, which first merges dims that are
/// jointly contiguous in every operand, so rank ≤ 6 covers any practical view.
/// </summary>
internal struct Dims6
{
    public int D0, D1, D2, D3, D4, D5;
}

/// <summary>One operand's element offset and strides for the dims of a <see cref="Dims6"/>.</summary>
internal struct Strides6
{
    public int Offset, S0, S1, S2, S3, S4, S5;

    /// <summary>Element offset of the row-major linear index <paramref name="linear"/> of <paramref name="dims"/>.</summary>
    public readonly int At(int linear, Dims6 dims)
    {
        int off = Offset, r = linear, q;
        q = r / dims.D5; off += (r - q * dims.D5) * S5; r = q;
        q = r / dims.D4; off += (r - q * dims.D4) * S4; r = q;
        q = r / dims.D3; off += (r - q * dims.D3) * S3; r = q;
        q = r / dims.D2; off += (r - q * dims.D2) * S2; r = q;
        q = r / dims.D1; off += (r - q * dims.D1) * S1; r = q;
        return off + r * S0;
    }
}

/// <summary>Host-side planner: merged dims (<see cref="JointLayout.Merge"/>) plus per-operand strides for same-shape tensors.</summary>
internal static class StridedLayout
{
    public const int MaxRank = 6;

    /// <summary>Plans iteration over <paramref name="operands"/> (one shared shape).</summary>
    public static (Dims6 Dims, Strides6[] Strides) Plan(string op, string backend, params Tensor[] operands)
    {
        var (dims, strides) = JointLayout.Merge(operands);
        int count = operands.Length;
        if (dims.Count > MaxRank)
            throw new BackendNotSupportedException(op, backend, $"views whose layout needs {dims.Count} > {MaxRank} dims after merging");
        var padded = new int[MaxRank];
        var paddedStrides = new int[count][];
        int lead = MaxRank - dims.Count;
        for (int k = 0; k < count; k++) paddedStrides[k] = new int[MaxRank];
        for (int i = 0; i < MaxRank; i++)
        {
            padded[i] = i < lead ? 1 : dims[i - lead];
            for (int k = 0; k < count; k++) paddedStrides[k][i] = i < lead ? 0 : strides[i - lead][k];
        }
        var result = new Dims6 { D0 = padded[0], D1 = padded[1], D2 = padded[2], D3 = padded[3], D4 = padded[4], D5 = padded[5] };
        var ops = new Strides6[count];
        for (int k = 0; k < count; k++)
        {
            var s = paddedStrides[k];
            ops[k] = new Strides6 { Offset = operands[k].Offset, S0 = s[0], S1 = s[1], S2 = s[2], S3 = s[3], S4 = s[4], S5 = s[5] };
        }
        return (result, ops);
    }
}
