namespace Hep.Kernels.Cpu;

/// <summary>
/// Reuse of the CPU backend's large pinned arrays. A training step frees and reallocates the same
/// activation sizes every iteration; without reuse each fresh multi-megabyte array is new memory from
/// the OS, and page-faulting it in (the kernel zeroing every page) costs about half of a ParticleNet
/// step. Freed arrays of at least <see cref="MinBytes"/> are kept per exact length, up to
/// <see cref="CapacityBytes"/> in total (a quarter of the memory available to the process), and handed
/// out again cleared to zero, so a reused buffer is indistinguishable from a new one. Thread-safe.
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
            // Pinned so kernels can take raw pointers without fixed-statement churn.
            array = GC.AllocateArray<T>(length, pinned: true);
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
