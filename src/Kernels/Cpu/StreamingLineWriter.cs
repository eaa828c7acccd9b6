using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Writes a stream of vectors to consecutive positions start, start + L, start + 2L, … (L = lanes of
/// Vector512&lt;T&gt;, T of 4 or 8 bytes; start any T-aligned address) with aligned non-temporal stores of
/// whole 64-byte lines, for producers that compute their vectors in stream order (rows built in
/// registers) rather than at line-aligned positions. s = elements from start to the next 64-byte line
/// (0 when start is on one). The lines start s elements into every vector, so vector k (k ≥ 1) completes
/// the line [start + kL + s − L, start + kL + s): the previous vector's lanes s … L−1 then its own lanes
/// 0 … s−1, joined by one two-source permute (indices s + i of (previous, vector)) and stored whole, so the
/// line is never read first. The first vector's lanes 0 … s−1 (the part of a line before start) and the
/// last vector's lanes s … L−1 (the part after the stream) go out with ordinary masked stores, which
/// write nothing outside the stream (and never fault on masked-off lanes). For s = 0 the join is the
/// previous vector itself: every vector is stored one call late, the last one by Finish.
/// Values are stored unchanged (bit-identical to ordinary stores of the same vectors).
/// The writer holds only what the start's alignment fixes (s and the permute indices); the caller keeps
/// the previous vector and the positions, so in an unrolled loop every vector stays in a register (a
/// writer that also carried the previous vector and a moving pointer was kept on the stack by the JIT,
/// with loads and stores of both around every vector). Use, for vectors v0, v1, … at p0, p1 = p0 + L, …:
/// w = <see cref="For"/>(p0), <see cref="First"/>(p0, v0), then <see cref="Put"/>(pk, v(k−1), vk) for each further whole vector, then
/// <see cref="Finish(T*, Vector512{T})"/>(end, last whole vector) or, with a partial last vector,
/// <see cref="Finish(T*, Vector512{T}, Vector512{T}, int)"/>. The caller issues the store fence
/// (<see cref="Sse.StoreFence"/>) once after its streams end. AVX-512 only (callers check
/// <see cref="StreamingStores.Pays{T}"/>).
/// </summary>
internal readonly unsafe struct StreamingLineWriter<T> where T : unmanaged
{
    private readonly Vector512<ulong> _join;   // indices s + i (as 32-bit lanes when sizeof(T) = 4)
    private readonly int _s;

    private static int L => Vector512<T>.Count;

    private StreamingLineWriter(Vector512<ulong> join, int s)
    {
        _join = join;
        _s = s;
    }

    /// <summary>
    /// The writer for a stream starting at <paramref name="start"/>. A factory rather than a constructor:
    /// `new` on a local passes the local's address to the (inlined) constructor, and the JIT then kept the
    /// writer on the stack and reloaded its permute indices for every vector; built here and returned, it
    /// lives in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static StreamingLineWriter<T> For(T* start)
    {
        if (sizeof(T) != 4 && sizeof(T) != 8)
            throw new NotSupportedException($"StreamingLineWriter (cpu): {sizeof(T)}-byte elements are not supported (4 or 8 bytes)");
        int s = (int)((64 - ((nuint)start & 63)) & 63) / sizeof(T);
        var join = sizeof(T) == 4
            ? (Vector512<uint>.Indices + Vector512.Create((uint)s)).AsUInt64()
            : Vector512<ulong>.Indices + Vector512.Create((ulong)s);
        return new StreamingLineWriter<T>(join, s);
    }

    /// <summary>Elements from the stream's start to the next 64-byte line (0 when it starts on one).</summary>
    public int Lead => _s;

    /// <summary>The stream's first vector v (a whole one) at the stream's start p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void First(T* p, Vector512<T> v) => MaskStore(p, Lanes(0, _s), v);

    /// <summary>The next whole vector v, at p, after previous: one aligned non-temporal store of the line it completes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Put(T* p, Vector512<T> previous, Vector512<T> v) => Join(previous, v).StoreAlignedNonTemporal(p + _s - L);

    /// <summary>Ends the stream after its last whole vector (previous, ending at end): that vector's lanes s … L−1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(T* end, Vector512<T> previous) => MaskStore(end - L, Lanes(_s, L), previous);

    /// <summary>Ends the stream with a partial last vector at p (after previous) whose lanes 0 … count−1 (0 ≤ count ≤ L) belong to it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(T* p, Vector512<T> previous, Vector512<T> last, int count)
    {
        var line = Join(previous, last);
        if (count >= _s)
        {
            line.StoreAlignedNonTemporal(p + _s - L);
            MaskStore(p, Lanes(_s, count), last);
        }
        else
        {
            MaskStore(p + _s - L, Lanes(0, L - _s + count), line);
        }
    }

    // Lanes s + i of the concatenation (a, b).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector512<T> Join(Vector512<T> a, Vector512<T> b) => sizeof(T) == 4
        ? Avx512F.PermuteVar16x32x2(a.AsUInt32(), _join.AsUInt32(), b.AsUInt32()).As<uint, T>()
        : Avx512F.PermuteVar8x64x2(a.AsUInt64(), _join, b.AsUInt64()).As<ulong, T>();

    // All bits set in lanes from ≤ i < to.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Lanes(int from, int to) => sizeof(T) == 4
        ? (Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(from)) & Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(to))).As<int, T>()
        : (Vector512.GreaterThanOrEqual(Vector512<long>.Indices, Vector512.Create((long)from)) & Vector512.LessThan(Vector512<long>.Indices, Vector512.Create((long)to))).As<long, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaskStore(T* p, Vector512<T> mask, Vector512<T> v)
    {
        if (sizeof(T) == 4) Avx512F.MaskStore((uint*)p, mask.AsUInt32(), v.AsUInt32());
        else Avx512F.MaskStore((ulong*)p, mask.AsUInt64(), v.AsUInt64());
    }
}
