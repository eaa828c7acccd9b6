using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Hep.Engine;
using Hep.Engine.Ops;
using Hep.Kernels.Cpu;

namespace Hep.Benchmarks;

/// <summary>
/// Bandwidth of the CPU backend's elementwise maps against copies of the same bytes, in the same run,
/// at 1 M, 4 M and 16 M float32 elements (4, 16 and 64 MB per operand; the machine's L3 is 32 MB).
/// Bytes moved = bytes read + bytes written: 2 arrays for copies and unary maps, 3 for Add/Mul.
/// Baseline (<c>Copy</c>): the engine's own copy (Memory.Copy, both cores, non-temporal stores for
/// large outputs), our best copy of those bytes; <c>Memmove</c> (Span.CopyTo on one half per core) and
/// <c>MemoryCopy</c> (one Buffer.MemoryCopy call, one core) are reported beside it. Columns: GB/s
/// (bytes moved / median time), "vs copy" (GB/s over the engine copy's at the same size) and
/// "vs best copy" (over the fastest of the three copies at that size). Target: Add, Mul and ReLU
/// ≥ 0.80 of copy bandwidth at the large sizes; Exp (a typical transcendental) is compute-bound.
/// </summary>
[Config(typeof(ElementwiseBandwidthConfig))]
public class ElementwiseBenchmarks
{
    private float[] _src = null!, _dst = null!;
    private Tensor _x = null!, _y = null!, _z = null!;

    [Params(1 << 20, 1 << 22, 1 << 24)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var backend = CpuBackend.Shared;
        _x = Tensor.Zeros(backend, new Shape(N));
        _y = Tensor.Zeros(backend, new Shape(N));
        _z = Tensor.Zeros(backend, new Shape(N));
        backend.Random.Uniform(1, -1, 1, _x);
        backend.Random.Uniform(2, -1, 1, _y);
        _src = GC.AllocateArray<float>(N, pinned: true);
        _dst = GC.AllocateArray<float>(N, pinned: true);
        _x.ToArray<float>().CopyTo(_src, 0);
        _dst.AsSpan().Fill(1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _y.Dispose();
        _z.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Copy")]
    public void Copy() => CpuBackend.Shared.Memory.Copy(_x, _z);

    [Benchmark(Description = "Memmove")]
    public void Memmove()
    {
        int n = N;
        var src = _src;
        var dst = _dst;
        Parallel.For(0, Environment.ProcessorCount, t =>
        {
            int s = (int)((long)n * t / Environment.ProcessorCount), e = (int)((long)n * (t + 1) / Environment.ProcessorCount);
            src.AsSpan(s, e - s).CopyTo(dst.AsSpan(s, e - s));
        });
    }

    [Benchmark(Description = "MemoryCopy")]
    public unsafe void MemoryCopy()
    {
        fixed (float* s = _src, d = _dst) Buffer.MemoryCopy(s, d, (long)N * sizeof(float), (long)N * sizeof(float));
    }

    [Benchmark(Description = "Add")]
    public void Add() => CpuBackend.Shared.Elementwise.Binary(BinaryOp.Add, _x, _y, _z);

    [Benchmark(Description = "Mul")]
    public void Mul() => CpuBackend.Shared.Elementwise.Binary(BinaryOp.Mul, _x, _y, _z);

    [Benchmark(Description = "Relu")]
    public void Relu() => CpuBackend.Shared.Elementwise.Unary(UnaryOp.Relu, _x, _z);

    [Benchmark(Description = "Exp")]
    public void Exp() => CpuBackend.Shared.Elementwise.Unary(UnaryOp.Exp, _x, _z);

    /// <summary>Arrays each benchmark reads or writes once (bytes moved = arrays × N × 4).</summary>
    public static int Arrays(string method) => method is nameof(Add) or nameof(Mul) ? 3 : 2;
}

/// <summary>Short in-process job (7 measured iterations) plus the bandwidth columns.</summary>
public sealed class ElementwiseBandwidthConfig : ManualConfig
{
    public ElementwiseBandwidthConfig()
    {
        AddJob(Job.ShortRun.WithIterationCount(7).WithToolchain(InProcessEmitToolchain.Instance).WithId("Short-InProcess"));
        AddColumn(new BandwidthColumn(BandwidthColumn.Kind.GBps), new BandwidthColumn(BandwidthColumn.Kind.VsCopy), new BandwidthColumn(BandwidthColumn.Kind.VsBestCopy));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min);
    }
}

/// <summary>GB/s from the median time, and that bandwidth as a fraction of the copies' at the same N.</summary>
public sealed class BandwidthColumn(BandwidthColumn.Kind kind) : IColumn
{
    public enum Kind { GBps, VsCopy, VsBestCopy }

    private static readonly string[] Copies = [nameof(ElementwiseBenchmarks.Copy), nameof(ElementwiseBenchmarks.Memmove), nameof(ElementwiseBenchmarks.MemoryCopy)];

    public string Id => "Bandwidth" + kind;
    public string ColumnName => kind switch { Kind.GBps => "GB/s", Kind.VsCopy => "vs copy", _ => "vs best copy" };
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => (int)kind;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => kind switch
    {
        Kind.GBps => "(bytes read + bytes written) / median time",
        Kind.VsCopy => "GB/s over the engine copy's GB/s at the same N",
        _ => "GB/s over the fastest copy's (engine copy, memmove, Buffer.MemoryCopy) at the same N",
    };

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? own = Bandwidth(summary, benchmarkCase);
        if (own is null) return "n/a";
        if (kind == Kind.GBps) return own.Value.ToString("F1");
        var sameSize = summary.BenchmarksCases.Where(c => Equals(c.Parameters["N"], benchmarkCase.Parameters["N"])).ToList();
        var copies = sameSize.Where(c => Copies.Contains(c.Descriptor.WorkloadMethod.Name) && (kind == Kind.VsBestCopy || c.Descriptor.WorkloadMethod.Name == Copies[0]))
            .Select(c => Bandwidth(summary, c)).Where(b => b is not null).Select(b => b!.Value).ToList();
        return copies.Count == 0 ? "n/a" : (own.Value / copies.Max()).ToString("F2");
    }

    private static double? Bandwidth(Summary summary, BenchmarkCase c)
    {
        var stats = summary[c]?.ResultStatistics;
        if (stats is null) return null;
        long bytes = (long)ElementwiseBenchmarks.Arrays(c.Descriptor.WorkloadMethod.Name) * (int)c.Parameters["N"] * sizeof(float);
        return bytes / stats.Median; // bytes per ns = GB/s
    }
}
