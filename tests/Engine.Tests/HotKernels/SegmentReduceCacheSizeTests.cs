using Hep.Kernels.Cpu;
using Hep.Kernels.Cpu.Graph;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// The last-level cache size that sets the sorted sums' sweep threshold (<see cref="SegmentReduce{T}.SweepBytes"/>):
/// sysfs size strings parsed to bytes, the highest-level data or unified cache picked from a sysfs-style
/// tree written to a temporary folder (so the result does not depend on the machine), and unreadable
/// trees giving null (the caller's 32 MB fallback).
/// </summary>
public class SegmentReduceCacheSizeTests
{
    [TestCase("32768K", 32L << 20)]
    [TestCase("1024K\n", 1L << 20)]
    [TestCase(" 48M ", 48L << 20)]
    [TestCase("1G", 1L << 30)]
    [TestCase("1k", 1024L)]
    [TestCase("786432", 786_432L)]
    public void ParsesSysfsSizes(string text, long bytes) => Assert.That(LastLevelCache.ParseSize(text), Is.EqualTo(bytes));

    [TestCase(null)]
    [TestCase("")]
    [TestCase("K")]
    [TestCase("0K")]
    [TestCase("-1K")]
    [TestCase("+2K")]
    [TestCase("12X")]
    [TestCase("1.5M")]
    [TestCase("32768 K")]
    [TestCase("9000000000000000000K")]
    public void RejectsMalformedSizes(string? text) => Assert.That(LastLevelCache.ParseSize(text), Is.Null);

    private static string Tree(params (string Level, string Type, string Size)[] entries)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"hep-cache-{Guid.NewGuid():N}");
        for (int i = 0; i < entries.Length; i++)
        {
            var entry = Directory.CreateDirectory(Path.Combine(dir, $"index{i}")).FullName;
            File.WriteAllText(Path.Combine(entry, "level"), entries[i].Level + "\n");
            File.WriteAllText(Path.Combine(entry, "type"), entries[i].Type + "\n");
            File.WriteAllText(Path.Combine(entry, "size"), entries[i].Size + "\n");
        }
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static long? Read(params (string Level, string Type, string Size)[] entries)
    {
        var dir = Tree(entries);
        try
        {
            return LastLevelCache.FromSysfs(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void PicksTheHighestLevelDataCache()
    {
        Assert.That(Read(("1", "Data", "32K"), ("1", "Instruction", "32K"), ("2", "Unified", "1024K"), ("3", "Unified", "32768K")),
            Is.EqualTo(32L << 20), "L3 of a four-entry tree");
        Assert.That(Read(("3", "Unified", "16384K"), ("2", "Unified", "2048K"), ("1", "Data", "48K")),
            Is.EqualTo(16L << 20), "entries in any order");
        Assert.That(Read(("1", "Data", "32K"), ("2", "Unified", "1280K")), Is.EqualTo(1280L << 10), "no L3: the L2");
        Assert.That(Read(("2", "Unified", "1024K"), ("4", "Instruction", "65536K")), Is.EqualTo(1L << 20), "an instruction cache does not count");
        Assert.That(Read(("2", "Unified", "1024K"), ("3", "Unified", "unknown")), Is.EqualTo(1L << 20), "an unreadable L3 size is skipped");
        Assert.That(Read(("2", "Unified", "1024K"), ("x", "Unified", "8192K")), Is.EqualTo(1L << 20), "a malformed level is skipped");
        Assert.That(Read(("3", "Unified", "8192K"), ("3", "Unified", "32768K"), ("2", "Unified", "1024K")), Is.EqualTo(32L << 20), "two at the top level: the larger");
    }

    [Test]
    public void UnreadableTreesGiveNull()
    {
        Assert.That(LastLevelCache.FromSysfs(Path.Combine(Path.GetTempPath(), $"hep-cache-missing-{Guid.NewGuid():N}")), Is.Null, "missing folder");
        Assert.That(Read(), Is.Null, "no index entries");
        Assert.That(Read(("1", "Instruction", "32K")), Is.Null, "instruction cache only");
    }

    [Test]
    public void SweepThresholdIsTheMachinesCache()
    {
        long expected = (OperatingSystem.IsLinux() ? LastLevelCache.FromSysfs("/sys/devices/system/cpu/cpu0/cache") : null) ?? LastLevelCache.FallbackBytes;
        Assert.That(LastLevelCache.Bytes, Is.EqualTo(expected));
        Assert.That(SegmentReduce<float>.SweepBytes, Is.EqualTo(LastLevelCache.Bytes));
        Assert.That(SegmentReduce<double>.SweepBytes, Is.EqualTo(LastLevelCache.Bytes));
    }
}
