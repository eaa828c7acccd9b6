using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Reuse of the CPU backend's large pinned arrays. A training step frees and reallocates the same
/// activation sizes every iteration; without reuse each fresh multi-megabyte array is new memory from
/// the OS, and page-faulting it in (the kernel zeroing every page) costs about half of a ParticleNet
/// step. Freed arrays of at least <see cref="MinBytes"/> are kept per exact length, up to
/// <see cref="CapacityBytes"/> in total (a quarter of the memory available to the process), and handed
/// out again cleared to zero, so a reused buffer is indistinguishable from a new one. Fresh arrays of at
/// least <see cref="MinBytes"/> are placed with element 0 on a 64-byte boundary where the pinned heap
/// allows it (<see cref="PinnedPlacement"/>; best effort, nothing depends on it). Thread-safe.
/// </summary>
internal static class CpuArrayPool<T> where T : unmanaged
{
    public const long MinBytes = 1 << 16;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, System.Collections.Concurrent.ConcurrentBag<T[]>> Free = new();
    private static long _cachedBytes;

    public static long CapacityBytes { get; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>Bytes currently held for reuse.</summary>
    public static long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>
    /// Test hook: arrays rented without clearing are filled with a poison pattern (all bits set: NaN for
    /// floats, −1 for int32), so an op that leaves part of an "uninitialized" output unwritten fails its
    /// value tests instead of passing on recycled data that happens to be right.
    /// </summary>
    internal static bool PoisonUninitialized { get; set; }

    /// <summary>An array of <paramref name="length"/> elements, zeroed when <paramref name="clear"/> (else stale or zero).</summary>
    public static unsafe T[] Rent(int length, bool clear = true)
    {
        long bytes = (long)length * sizeof(T);
        T[] array;
        if (bytes >= MinBytes && Free.TryGetValue(length, out var bag) && bag.TryTake(out var recycled))
        {
            Interlocked.Add(ref _cachedBytes, -bytes);
            array = recycled;
            if (clear) Clear(array);
        }
        else
        {
            // Pinned so kernels can take raw pointers without fixed-statement churn; large ones cache-line aligned.
            array = bytes >= MinBytes ? PinnedPlacement.Allocate<T>(length) : GC.AllocateArray<T>(length, pinned: true);
        }
        if (!clear && PoisonUninitialized) System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()).Fill(0xFF);
        return array;
    }

    public static unsafe void Return(T[] array)
    {
        long bytes = (long)array.Length * sizeof(T);
        if (bytes < MinBytes) return;
        if (Interlocked.Add(ref _cachedBytes, bytes) > CapacityBytes)
        {
            Interlocked.Add(ref _cachedBytes, -bytes);
            return;
        }
        Free.GetOrAdd(array.Length, _ => []).Add(array);
    }

    // Zeroes a reused array; large ones on both cores (warm pages: pure store bandwidth).
    private static void Clear(T[] array)
    {
        const int Slice = 1 << 20;
        if (array.Length < 4 * Slice)
        {
            Array.Clear(array);
            return;
        }
        int slices = (array.Length + Slice - 1) / Slice;
        Parallel.For(0, slices, s => Array.Clear(array, s * Slice, Math.Min(Slice, array.Length - s * Slice)));
    }
}

/// <summary>
/// Best-effort 64-byte alignment of element 0 for fresh large pinned arrays. Rows of 64 floats in an
/// array whose data starts mid-line span 5 cache lines instead of 4 (25 % more lines for random-row
/// kernels), and non-temporal stores cannot write whole lines. The GC has no aligned allocation, but the
/// pinned object heap lays objects end to end (an array's footprint: 24 bytes of header before element
/// 0, then its data rounded up to 8 bytes) and never moves them, so a byte[] filler of the right size
/// placed first puts the next array's element 0 on a boundary. Where the heap continues is found by
/// allocating: a zero-length probe, then 24–80-byte fillers aimed at the end of the last object until one
/// lands there, then the array, checked afterwards. Small objects and a large array need not go to the
/// same place (the heap takes the first free gap or region tail with room for each), so a misplaced
/// array of at most <see cref="MaxRetryBytes"/> gets one retry: a filler at least as large as the array
/// (so it skips the places the array skipped) aimed at its end, then the array again, the misplaced one
/// and the filler left to the GC (at most <see cref="WasteBytes"/> of such waste between full
/// collections). Arrays larger than the GC's large regions (32 MB by default, 8 × System.GC.RegionSize)
/// always start a region of their own, 56 bytes past a boundary, and stay unaligned. Correctness never
/// depends on the result: callers get a zeroed array of the requested length, aligned or not.
/// </summary>
internal static unsafe class PinnedPlacement
{
    public const int Alignment = 64;
    private const int HeaderBytes = 24;
    private const int Chases = 4;
    /// <summary>
    /// Largest array that gets a retry, and the retries' waste budget. 32 MB: with the 64 MB basic regions
    /// set in the runtimeconfig a retry's filler fits beside the array, and it covers the models' mid-size
    /// outputs (ParT's class-attention dK / dV: 8.5 MB each at B = 128) whose non-temporal stores need a
    /// 64-byte start.
    /// </summary>
    public const long MaxRetryBytes = 32L << 20, WasteBytes = 256L << 20;
    private static long _wasted;
    private static int _wasteEpoch = -1;
    private static readonly Lock Gate = new();

    /// <summary>Whether element 0 of a pinned array lies on a 64-byte boundary.</summary>
    public static bool IsAligned<T>(T[] array) => Data(array) % Alignment == 0;

    /// <summary>A zeroed pinned array of <paramref name="length"/> elements, 64-byte aligned where the heap allows.</summary>
    public static T[] Allocate<T>(int length) where T : unmanaged
    {
        long bytes = (long)length * sizeof(T);
        lock (Gate)
        {
            var probe = GC.AllocateArray<byte>(0, pinned: true);
            nuint next = End(probe, 0);
            for (int chase = 0; chase < Chases && !Pad(ref next, 0); chase++) { }
            var array = GC.AllocateArray<T>(length, pinned: true);
            if (IsAligned(array) || bytes > MaxRetryBytes || !TakeWaste(2 * bytes)) return array;
            // The array went to the first place with room for it, which small objects need not reach: a
            // filler at least as large as the array goes right after it (if that place has room left).
            next = End(array, bytes);
            if (!Pad(ref next, bytes)) return array;
            return GC.AllocateArray<T>(length, pinned: true);
        }
    }

    // Allocates a byte[] of at least `minBytes` aimed at `next` (the end of the last object placed), sized
    // so that an array placed right after it has its element 0 on a boundary; true when it landed there,
    // `next` set to its end either way.
    private static bool Pad(ref nuint next, long minBytes)
    {
        long size = (minBytes + 7) & ~7L;
        // Filler footprint 24 + size + fill; the following array's element 0 is 24 bytes past its end.
        long fill = size + (long)((0 - (next + (nuint)size + 2 * HeaderBytes)) % Alignment);
        var filler = GC.AllocateArray<byte>((int)fill, pinned: true);
        bool landed = Data(filler) - HeaderBytes == next;
        next = End(filler, fill);
        return landed;
    }

    // Retries leave up to 2 × the array's size to the GC; at most WasteBytes of that between full collections.
    private static bool TakeWaste(long bytes)
    {
        int gen2 = GC.CollectionCount(2);
        if (gen2 != _wasteEpoch)
        {
            _wasteEpoch = gen2;
            _wasted = 0;
        }
        if (_wasted + bytes > WasteBytes) return false;
        _wasted += bytes;
        return true;
    }

    private static nuint Data<T>(T[] array) => (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));

    private static nuint End<T>(T[] array, long bytes) => Data(array) + (nuint)((bytes + 7) & ~7L);
}
