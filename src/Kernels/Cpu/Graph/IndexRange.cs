using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>Vectorised bounds check of Int32 indices (one pass, 16 lanes at a time) for the graph kernels.</summary>
internal static class IndexRange
{
    /// <summary>True when every index lies in [0, limit) (negative values fail as large unsigned ones).</summary>
    public static bool AllBelow(ReadOnlySpan<int> index, int limit)
    {
        var u = MemoryMarshal.Cast<int, uint>(index);
        var bound = Vector512.Create((uint)limit);
        int i = 0;
        for (; i + Vector512<uint>.Count <= u.Length; i += Vector512<uint>.Count)
        {
            if (!Vector512.LessThanAll(Vector512.Create(u.Slice(i, Vector512<uint>.Count)), bound)) return false;
        }
        for (; i < u.Length; i++)
        {
            if (u[i] >= (uint)limit) return false;
        }
        return true;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the op and the first bad index.</summary>
    public static void Throw(ReadOnlySpan<int> index, int limit, string op)
    {
        foreach (int i in index)
        {
            if ((uint)i >= (uint)limit) throw new ArgumentOutOfRangeException(nameof(index), $"{op}: index {i} out of range [0, {limit})");
        }
    }
}
