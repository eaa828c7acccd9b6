using Hep.Kernels.Cpu;

namespace Hep.Engine.Tests;

/// <summary>
/// The CPU array pool: fresh large arrays placed on 64-byte boundaries (best effort, <see cref="PinnedPlacement"/>),
/// and its reuse semantics (cleared or poisoned on rent, reuse by exact length, capacity accounting).
/// Every test uses lengths no other test rents, so arrays returned elsewhere cannot interfere.
/// </summary>
[NonParallelizable]
public class CpuArrayPoolTests
{
    private static unsafe long Address<T>(T[] array) where T : unmanaged
    {
        fixed (T* p = array) return (long)p;
    }

    // Directory.Build.props sets 64 MB GC regions for every executable and test host: with the default
    // 32 MB large regions, every array above 32 MB (the scatter-add benchmark's 51 MB tensors, ParticleNet's
    // edge activations) starts a region of its own 56 bytes past a cache line and cannot be placed.
    [Test]
    public void RuntimeConfigRaisesTheGcRegionSize()
    {
        var value = AppContext.GetData("System.GC.RegionSize");
        Assert.That(value, Is.Not.Null, "System.GC.RegionSize missing from the runtimeconfig");
        Assert.That(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(64L << 20));
    }

    // Without placement 18 of these 72 start on a boundary (measured with placement removed: the GC aligns
    // objects to 8 bytes, and these lengths' footprints favour some offsets); the pinned heap's free gaps
    // and full regions defeat some placements (50–61 of 72 aligned in runs of this fixture alone on the
    // development VM, at least 36 in the CI box's full run). How many succeed depends on what earlier tests
    // left in the heap and on the machine, so the test asks for 30: it catches placement lost, not a rate.
    // The speed alignment buys is measured in perf/, not here.
    [Test]
    public void FreshLargeArraysStartOnCacheLines()
    {
        var kept = new List<Array>();
        int aligned = 0, total = 0;
        var misses = new List<string>();
        for (int i = 0; i < 24; i++)
        {
            int length = (1 << 14) + 3 + i * 65_537;
            var f = CpuArrayPool<float>.Rent(length + 1);
            var d = CpuArrayPool<double>.Rent(length / 2 + 5);
            var n = CpuArrayPool<int>.Rent(length + 7);
            kept.Add(f);
            kept.Add(d);
            kept.Add(n);
            foreach (var (a, address) in new (Array, long)[] { (f, Address(f)), (d, Address(d)), (n, Address(n)) })
            {
                total++;
                if (address % 64 == 0) aligned++;
                else misses.Add($"{a.GetType().Name}[{a.Length}] at {address % 64} mod 64");
            }
        }
        Assert.That(aligned, Is.GreaterThanOrEqualTo(30), $"{aligned}/{total} aligned; misses: {string.Join(", ", misses)}");
        foreach (var a in kept) Assert.That(a.Length, Is.GreaterThan(0));
    }

    // The class-attention gradients' size (8.5 MB each at B = 128, H = 8, N + 1 = 129, D = 16), 24 times: the
    // pinned heap rolls over to new 64 MB regions three times, where an array starts off its line unless
    // it is retried (MaxRetryBytes). Unplaced, exactly one in eight starts on a line (each footprint ends
    // 8 bytes further past a boundary than the last); measured in this fixture alone on the development VM:
    // 23–24 of 24 with the 32 MB retry limit, 20–23 with the old 8 MB one (no retry here), but 13 of 24 in
    // the CI box's full run (retries spent on arrays the first placement missed, then the waste budget
    // gone). The test asks for three times the unplaced rate: it catches placement lost for these sizes
    // (3 of 24), not a rate, which belongs to the benchmarks.
    [Test]
    public void ClassAttentionGradientSizedArraysStartOnCacheLines()
    {
        GC.Collect();   // a fresh waste budget for the retries
        var kept = new List<float[]>();
        var misses = new List<string>();
        int aligned = 0;
        for (int i = 0; i < 24; i++)
        {
            int length = 128 * 8 * 129 * 16 + 11 + (i % 3) * 16;
            Assert.That((long)length * sizeof(float), Is.LessThanOrEqualTo(PinnedPlacement.MaxRetryBytes));
            var a = CpuArrayPool<float>.Rent(length);
            kept.Add(a);
            long address = Address(a);
            if (address % 64 == 0) aligned++;
            else misses.Add($"#{i} at {address % 64} mod 64");
        }
        Assert.That(aligned, Is.GreaterThanOrEqualTo(9), $"{aligned}/24 aligned; misses: {string.Join(", ", misses)}");
        Assert.That(kept, Has.All.Property("Length").GreaterThan(2_000_000));
    }

    [Test]
    public void PlacementGivesZeroedArraysOfTheRequestedLength()
    {
        foreach (int length in new[] { 16_411, 100_003, 1_048_583 })
        {
            var a = PinnedPlacement.Allocate<float>(length);
            var b = PinnedPlacement.Allocate<long>(length);
            Assert.That(a.Length, Is.EqualTo(length));
            Assert.That(b.Length, Is.EqualTo(length));
            Assert.That(a, Has.All.EqualTo(0f));
            Assert.That(b, Has.All.EqualTo(0L));
        }
    }

    [Test]
    public void ReturnedArrayIsReusedClearedOrPoisoned()
    {
        const int length = 70_001;   // 280 KB of floats: pooled
        bool poison = CpuArrayPool<float>.PoisonUninitialized;
        try
        {
            var a = CpuArrayPool<float>.Rent(length);
            Assert.That(a, Has.All.EqualTo(0f), "fresh array not zero");
            a.AsSpan().Fill(3.5f);
            long cached = CpuArrayPool<float>.CachedBytes;
            CpuArrayPool<float>.Return(a);
            Assert.That(CpuArrayPool<float>.CachedBytes - cached, Is.EqualTo(length * 4L), "cached bytes after return");
            var b = CpuArrayPool<float>.Rent(length);
            Assert.That(b, Is.SameAs(a), "same-length array not reused");
            Assert.That(CpuArrayPool<float>.CachedBytes, Is.EqualTo(cached), "cached bytes after reuse");
            Assert.That(b, Has.All.EqualTo(0f), "reused array not cleared");

            b.AsSpan().Fill(3.5f);
            CpuArrayPool<float>.Return(b);
            CpuArrayPool<float>.PoisonUninitialized = true;
            var c = CpuArrayPool<float>.Rent(length, clear: false);
            Assert.That(c, Is.SameAs(a));
            Assert.That(c, Has.All.NaN, "uninitialized rent not poisoned");
            CpuArrayPool<float>.PoisonUninitialized = false;
            CpuArrayPool<float>.Return(c);
            var d = CpuArrayPool<float>.Rent(length, clear: false);
            Assert.That(d, Is.SameAs(a));
            Assert.That(d, Has.All.NaN, "uninitialized rent without poison keeps the stale contents");
            CpuArrayPool<float>.Return(d);
        }
        finally
        {
            CpuArrayPool<float>.PoisonUninitialized = poison;
        }
    }

    [Test]
    public void SmallArraysAreNotPooledAndOtherLengthsAreNotShared()
    {
        var small = CpuArrayPool<float>.Rent(1000);
        long cached = CpuArrayPool<float>.CachedBytes;
        CpuArrayPool<float>.Return(small);
        Assert.That(CpuArrayPool<float>.CachedBytes, Is.EqualTo(cached), "array below MinBytes cached");
        Assert.That(CpuArrayPool<float>.Rent(1000), Is.Not.SameAs(small));

        var large = CpuArrayPool<float>.Rent(70_013);
        CpuArrayPool<float>.Return(large);
        var other = CpuArrayPool<float>.Rent(70_017);
        Assert.That(other, Is.Not.SameAs(large), "array handed out for another length");
        Assert.That(other.Length, Is.EqualTo(70_017));
        Assert.That(CpuArrayPool<float>.Rent(70_013), Is.SameAs(large));
    }
}
