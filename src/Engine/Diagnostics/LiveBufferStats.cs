using System.Collections.Concurrent;

namespace Hep.Engine.Diagnostics;

/// <summary>
/// Live device-buffer counters per backend (count and bytes), fed by every backend's allocator.
/// Tests use them to prove that a training step inside a <see cref="TensorScope"/> leaks nothing.
/// </summary>
public static class LiveBufferStats
{
    private sealed class Counter
    {
        public long Count;
        public long Bytes;
        public long PeakBytes;
    }

    private static readonly ConcurrentDictionary<string, Counter> Counters = new();

    /// <summary>Called by a backend when a buffer is created.</summary>
    public static void OnAllocated(string backend, long bytes)
    {
        var c = Counters.GetOrAdd(backend, _ => new Counter());
        Interlocked.Increment(ref c.Count);
        long now = Interlocked.Add(ref c.Bytes, bytes);
        long peak;
        while (now > (peak = Interlocked.Read(ref c.PeakBytes)) &&
               Interlocked.CompareExchange(ref c.PeakBytes, now, peak) != peak)
        {
        }
    }

    /// <summary>Called by a backend when a buffer is freed.</summary>
    public static void OnReleased(string backend, long bytes)
    {
        var c = Counters.GetOrAdd(backend, _ => new Counter());
        Interlocked.Decrement(ref c.Count);
        Interlocked.Add(ref c.Bytes, -bytes);
    }

    /// <summary>Live buffers on a backend.</summary>
    public static long Count(string backend) => Counters.TryGetValue(backend, out var c) ? Interlocked.Read(ref c.Count) : 0;

    /// <summary>Live bytes on a backend.</summary>
    public static long Bytes(string backend) => Counters.TryGetValue(backend, out var c) ? Interlocked.Read(ref c.Bytes) : 0;

    /// <summary>Highest live bytes seen on a backend since start or the last <see cref="ResetPeak"/>.</summary>
    public static long PeakBytes(string backend) => Counters.TryGetValue(backend, out var c) ? Interlocked.Read(ref c.PeakBytes) : 0;

    public static void ResetPeak(string backend)
    {
        if (Counters.TryGetValue(backend, out var c)) Interlocked.Exchange(ref c.PeakBytes, Interlocked.Read(ref c.Bytes));
    }
}
