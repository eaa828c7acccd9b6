namespace Hep.Kernels.Cpu;

/// <summary>
/// Splits a range of independent items into one contiguous chunk per core when the work is large
/// enough to pay for the fork (≈ 32K element-operations per chunk); runs inline otherwise.
/// </summary>
internal static class CpuParallel
{
    private const long MinWorkPerChunk = 1 << 15;

    public static int Threads { get; } = Environment.ProcessorCount;

    /// <summary>Calls body(start, end) over [0, count), each item costing about <paramref name="workPerItem"/>.</summary>
    public static void For(int count, long workPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        long total = count * Math.Max(workPerItem, 1);
        int chunks = (int)Math.Min(Math.Min(Threads, count), Math.Max(1, total / MinWorkPerChunk));
        if (chunks <= 1)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, chunks, c =>
        {
            int start = (int)((long)count * c / chunks);
            int end = (int)((long)count * (c + 1) / chunks);
            body(start, end);
        });
    }
}
