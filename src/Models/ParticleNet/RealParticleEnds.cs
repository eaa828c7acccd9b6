namespace Hep.Models.ParticleNet;

/// <summary>
/// Per jet, the slot after its last real particle (0 for an empty jet) of a mask (B, 1, N) with 1 = real:
/// the column extent of the CPU eval pipeline (<see cref="EdgeConvBlock"/> with padded outputs masked). Read
/// to the host on first use only, then shared, so one ParticleNet forward reads its mask back once for all
/// its blocks (and not at all when no block needs it: training, a recording tape, a device backend).
/// </summary>
public sealed class RealParticleEnds(Tensor mask)
{
    private int[]? _values;

    /// <summary>The ends (B), computed on first access.</summary>
    public int[] Values => _values ??= Compute(mask);

    /// <summary>Reads the mask (B, 1, N) back and finds each jet's last non-zero slot.</summary>
    public static int[] Compute(Tensor mask)
    {
        if (mask.Rank != 3 || mask.Shape[1] != 1) throw new ArgumentException($"RealParticleEnds: mask {mask.Shape} must be (B, 1, N)");
        int b = mask.Shape[0], n = mask.Shape[2];
        var m = mask.ToDoubleArray();
        var ends = new int[b];
        for (int j = 0; j < b; j++) ends[j] = MaskSpans.LastNonZeroEnd<double>(m.AsSpan(j * n, n));
        return ends;
    }
}
