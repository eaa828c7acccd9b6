using System.Numerics;
using System.Runtime.Intrinsics;

namespace Hep.Engine;

/// <summary>Searches over mask rows (1 = real / valid, 0 = padding) shared by kernels and models.</summary>
public static class MaskSpans
{
    /// <summary>
    /// One past the last entry of <paramref name="row"/> that is not zero (0 when every entry is zero): the end
    /// of a jet's real particles in a padding mask. −0 counts as zero, NaN as non-zero. Scans whole vectors from
    /// the end (Vector512 where accelerated), so a padded row costs its padding only.
    /// </summary>
    public static int LastNonZeroEnd<T>(ReadOnlySpan<T> row) where T : unmanaged, INumberBase<T>
    {
        int last = row.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            int lanes = Vector512<T>.Count;
            for (; last >= lanes; last -= lanes)
            {
                ulong nonZero = (~Vector512.Equals(Vector512.Create(row.Slice(last - lanes, lanes)), Vector512<T>.Zero)).ExtractMostSignificantBits();
                if (nonZero != 0) return last - lanes + 64 - BitOperations.LeadingZeroCount(nonZero);
            }
        }
        while (last > 0 && row[last - 1] == T.Zero) last--;
        return last;
    }
}
