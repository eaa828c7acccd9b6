using System.Globalization;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Size of the last-level data cache seen by core 0, for kernels whose choice between cached and
/// non-temporal stores depends on whether a sweep evicts their output (<see cref="Graph.SegmentReduce{T}"/>).
/// On Linux it is read once from sysfs (/sys/devices/system/cpu/cpu0/cache/index*/: the data or unified
/// cache with the highest "level", its "size" such as "32768K"); on AMD parts with several core
/// complexes that is the L3 of core 0's complex, the cache a core's own sweep competes for. Where sysfs
/// does not give one (another OS, a container or VM that hides it, an unreadable entry) the size is
/// <see cref="FallbackBytes"/>, the L3 of the machine the thresholds were tuned on.
/// </summary>
internal static class LastLevelCache
{
    /// <summary>Used when the size cannot be read: 32 MB (the tuning machine's L3).</summary>
    public const long FallbackBytes = 32L << 20;

    private const string CpuCacheDirectory = "/sys/devices/system/cpu/cpu0/cache";

    /// <summary>Bytes of core 0's last-level data cache, or <see cref="FallbackBytes"/>.</summary>
    public static long Bytes { get; } = (OperatingSystem.IsLinux() ? FromSysfs(CpuCacheDirectory) : null) ?? FallbackBytes;

    /// <summary>
    /// The size of the highest-level data or unified cache described under <paramref name="cacheDirectory"/>
    /// (sysfs layout: index*/level, index*/type, index*/size); null when none can be read. An entry with an
    /// unreadable or malformed level, type or size is skipped; of two entries at the top level the larger wins.
    /// </summary>
    public static long? FromSysfs(string cacheDirectory)
    {
        string[] entries;
        try
        {
            entries = Directory.GetDirectories(cacheDirectory, "index*");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        int bestLevel = 0;
        long? best = null;
        foreach (var entry in entries)
        {
            string? level = ReadLine(Path.Combine(entry, "level")), type = ReadLine(Path.Combine(entry, "type"));
            long? size = ParseSize(ReadLine(Path.Combine(entry, "size")));
            if (size is null || type is not ("Data" or "Unified")) continue;
            if (!int.TryParse(level, NumberStyles.None, CultureInfo.InvariantCulture, out int l) || l <= 0) continue;
            if (l > bestLevel || (l == bestLevel && size > best))
            {
                bestLevel = l;
                best = size;
            }
        }
        return best;
    }

    /// <summary>
    /// A sysfs cache size ("32768K", "1M", "512": a decimal count with an optional K / M / G suffix, binary
    /// multiples, surrounding whitespace ignored) in bytes; null when malformed, zero or overflowing.
    /// </summary>
    public static long? ParseSize(string? text)
    {
        var s = text.AsSpan().Trim();
        if (s.IsEmpty) return null;
        int shift = char.ToUpperInvariant(s[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 };
        if (shift != 0) s = s[..^1];
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long count) || count <= 0) return null;
        if (count > long.MaxValue >> shift) return null;
        return count << shift;
    }

    private static string? ReadLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
