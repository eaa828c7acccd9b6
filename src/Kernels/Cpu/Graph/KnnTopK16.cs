using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>
/// Top-K (K ≤ 16) of one query's float32 ranking keys with AVX-512, for <see cref="Knn{T}"/>.
/// Each candidate is one 64-bit integer c = ord(key)·2³² + j, where ord maps floats to unsigned
/// integers in the same order (−0 is folded into +0 first), so comparing composites compares keys
/// and breaks ties by the lower index: the kNN order, exactly, with no tie logic.
/// The list is the 16 smallest composites seen, ascending, in two registers (L0 = ranks 0–7,
/// L1 = ranks 8–15; empty slots hold ulong.MaxValue). Inserting c is branch-free and order-free:
///   L'[i] = min(L[i], max(c, L[i − 1]))   (L[−1] = 0)
/// keeps L sorted and equals L when c is not below L[15], so the survivors of a block need no
/// re-check after each insertion: two lane shifts (VALIGNQ), two max, two min.
/// Candidates are taken 16 at a time: their float keys are compared with the current K-th key (+∞
/// while the list is short, so self, padded and tail lanes, which carry +∞, and NaN keys never enter);
/// only blocks with survivors build composites, and only the surviving lanes are inserted.
/// </summary>
internal static unsafe class KnnTopK16
{
    private const int L = 16;

    // ord(+∞)·2³²: composites at or above it (+∞ or NaN keys) are never inserted.
    private const ulong InfinityFloor = 0xFF80_0000UL << 32;

    public static bool Supported(int k) => Avx512F.IsSupported && k is > 0 and <= L;

    /// <summary>
    /// Writes the indices of the k smallest keys among keys[0 .. count) (count a multiple of 16, +∞ for
    /// excluded candidates) to dst in ascending (key, index) order; returns how many were found (≤ k;
    /// fewer when fewer than k keys are finite).
    /// </summary>
    public static int Select(float* keys, int count, int k, int* dst) => SelectPair(keys, keys, count, k, dst, null).First;

    /// <summary>
    /// <see cref="Select"/> for two queries at once (b's result is dropped when dstB is null): the two
    /// insertion chains are independent, so they overlap. Each round inserts one survivor of each query;
    /// a query with no survivor left inserts ulong.MaxValue, which changes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (int First, int Second) SelectPair(float* keysA, float* keysB, int count, int k, int* dstA, int* dstB)
    {
        var a0 = Vector512<ulong>.AllBitsSet;
        var a1 = a0;
        var b0 = a0;
        var b1 = a0;
        var sequence = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var pick = Vector512.Create((ulong)((k - 1) & 7));
        bool high = k > 8;
        var floor = Vector512.Create(InfinityFloor);
        // The K-th key as a float (+∞ while fewer than K are held): a candidate survives a block when
        // key < threshold. Candidates come in index order, after every held one, so this float compare
        // is exactly the composite compare (an equal key has the higher index and loses); NaN never passes.
        var ta = Vector512.Create(float.PositiveInfinity);
        var tb = ta;
        // Each query's block composites, then one ulong.MaxValue (the no-op insertion).
        ulong* blockA = stackalloc ulong[L + 1];
        ulong* blockB = stackalloc ulong[L + 1];
        blockA[L] = ulong.MaxValue;
        blockB[L] = ulong.MaxValue;
        for (int j0 = 0; j0 < count; j0 += L)
        {
            var ka = Vector512.Load(keysA + j0);
            var kb = Vector512.Load(keysB + j0);
            uint bitsA = (uint)Vector512.LessThan(ka, ta).ExtractMostSignificantBits();
            uint bitsB = (uint)Vector512.LessThan(kb, tb).ExtractMostSignificantBits();
            if ((bitsA | bitsB) == 0) continue;
            var index0 = sequence + Vector512.Create((ulong)j0);
            var index1 = index0 + Vector512.Create(8UL);
            var (ca0, ca1) = Composites(ka, index0, index1);
            var (cb0, cb1) = Composites(kb, index0, index1);
            ca0.Store(blockA);
            ca1.Store(blockA + 8);
            cb0.Store(blockB);
            cb1.Store(blockB + 8);
            for (int round = Math.Max(BitOperations.PopCount(bitsA), BitOperations.PopCount(bitsB)); round > 0; round--)
            {
                // Lane 16 (the no-op) once a query's survivors are used up.
                int ia = BitOperations.TrailingZeroCount(bitsA | (1u << L));
                int ib = BitOperations.TrailingZeroCount(bitsB | (1u << L));
                bitsA &= bitsA - 1;
                bitsB &= bitsB - 1;
                Insert(ref a0, ref a1, Vector512.Create(blockA[ia]));
                Insert(ref b0, ref b1, Vector512.Create(blockB[ib]));
            }
            ta = Threshold(high ? a1 : a0, pick, floor);
            tb = Threshold(high ? b1 : b0, pick, floor);
        }
        return (Write(a0, a1, k, floor, dstA), dstB is null ? 0 : Write(b0, b1, k, floor, dstB));
    }

    // The key of composite lane `pick` of half, capped at +∞ (an empty slot reads as +∞), in all 16 lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Threshold(Vector512<ulong> half, Vector512<ulong> pick, Vector512<ulong> floor)
    {
        var t = Vector512.Min(Avx512F.PermuteVar8x64(half, pick), floor);
        var ord = Avx512F.ConvertToVector256UInt32(Vector512.ShiftRightLogical(t, 32)).AsInt32();
        var ord16 = Vector512.Create(ord, ord);
        // Inverse of ord: a set top bit (positive float) clears it; a clear one (negative float) flips every bit.
        var bits = ord16 ^ (~Vector512.ShiftRightArithmetic(ord16, 31) | Vector512.Create(int.MinValue));
        return bits.AsSingle();
    }

    // The list's first k indices (low halves), up to the last finite entry; returns how many.
    private static int Write(Vector512<ulong> l0, Vector512<ulong> l1, int k, Vector512<ulong> floor, int* dst)
    {
        int found = Math.Min(k, BitOperations.PopCount(Vector512.LessThan(l0, floor).ExtractMostSignificantBits())
            + BitOperations.PopCount(Vector512.LessThan(l1, floor).ExtractMostSignificantBits()));
        if (found == L)
        {
            Avx512F.ConvertToVector256UInt32(l0).Store((uint*)dst);
            Avx512F.ConvertToVector256UInt32(l1).Store((uint*)dst + 8);
            return found;
        }
        uint* low = stackalloc uint[L];
        Avx512F.ConvertToVector256UInt32(l0).Store(low);
        Avx512F.ConvertToVector256UInt32(l1).Store(low + 8);
        for (int r = 0; r < found; r++) dst[r] = (int)low[r];
        return found;
    }

    // c = ord(key)·2³² + index for the 16 keys (lanes 0–7 in c0, 8–15 in c1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<ulong>, Vector512<ulong>) Composites(Vector512<float> keys, Vector512<ulong> index0, Vector512<ulong> index1)
    {
        // +0 folds −0 into +0; ord flips every bit of a negative float and only the sign bit of a positive one.
        var bits = (keys + Vector512<float>.Zero).AsInt32();
        var ord = (bits ^ (Vector512.ShiftRightArithmetic(bits, 31) | Vector512.Create(int.MinValue))).AsUInt32();
        var lo = Avx512F.ConvertToVector512UInt64(ord.GetLower());
        var hi = Avx512F.ConvertToVector512UInt64(ord.GetUpper());
        return (Vector512.ShiftLeft(lo, 32) | index0, Vector512.ShiftLeft(hi, 32) | index1);
    }

    // L'[i] = min(L[i], max(c, L[i − 1])), L[−1] = 0, over the 16 lanes of (l0, l1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Insert(ref Vector512<ulong> l0, ref Vector512<ulong> l1, Vector512<ulong> c)
    {
        var s0 = Avx512F.AlignRight64(l0, Vector512<ulong>.Zero, 7);   // [0, l0[0..6]]
        var s1 = Avx512F.AlignRight64(l1, l0, 7);                      // [l0[7], l1[0..6]]
        l0 = Vector512.Min(l0, Vector512.Max(s0, c));
        l1 = Vector512.Min(l1, Vector512.Max(s1, c));
    }
}
