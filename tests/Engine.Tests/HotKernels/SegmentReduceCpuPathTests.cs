using Hep.Kernels.Cpu;
using Hep.Kernels.Cpu.Graph;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// The CPU segment kernels' 64-byte-aligned block paths, which the backend-generic tests reach only when
/// the pool happens to align their buffers: here every source, output and gradient is a view placed on a
/// 64-byte boundary of a larger buffer, so the paths are taken on every run. Planned sums over aligned
/// 4-vector rows, and rows of whole 4-vector blocks 3 or 13 floats past a line (y stored normally, or
/// streamed out as when the source reaches the last-level cache size), with the
/// mean divided in registers, against a host loop adding the rows in edge order in float32 (bitwise);
/// the gather's aligned block copy (non-temporal stores, the index checked row by row) against the
/// gradient rows (bitwise), and an index outside [0, V) anywhere in the range rejected naming the op.
/// </summary>
public unsafe class SegmentReduceCpuPathTests
{
    private static readonly IBackend Cpu = Backends.Cpu;

    // A view of count elements of a poisoned (7.0) buffer, starting shift elements past a 64-byte boundary.
    private static (Tensor Flat, Tensor View) Aligned(int count, DType dtype, int shift = 0)
    {
        int lanes = 64 / dtype.SizeOf();
        var flat = Tensor.Full(Cpu, new Shape(count + 2 * lanes), 7.0, dtype);
        nuint address = dtype == DType.Float32 ? Address(CpuTensor.Array<float>(flat, "test")) : Address(CpuTensor.Array<double>(flat, "test"));
        int offset = (int)((64 - (address & 63)) & 63) / dtype.SizeOf();
        return (flat, flat.Slice(0, offset + shift, count));
    }

    private static nuint Address<T>(T[] array) where T : unmanaged
    {
        fixed (T* p = array) return (nuint)p;
    }

    private static nuint Address(Tensor t) => t.DType == DType.Float32
        ? Address(CpuTensor.Array<float>(t, "test")) + (nuint)(t.Offset * 4)
        : Address(CpuTensor.Array<double>(t, "test")) + (nuint)(t.Offset * 8);

    // E = 3001 and 33,001 (several node ranges per core), F = 64, the last 100 of V nodes never
    // targeted; sum and mean; y stored normally or streamed out (the sweep threshold passed in as 0 or
    // never, so both store paths run whatever the machine's last-level cache size); source rows on a
    // line (srcShift 0) or 3 / 13 floats past one (the shifted whole-block path), y always on a line.
    [TestCase(3001, 400, false, false, 0)]
    [TestCase(3001, 400, true, false, 0)]
    [TestCase(3001, 400, false, true, 0)]
    [TestCase(3001, 400, true, true, 0)]
    [TestCase(33_001, 5000, false, false, 0)]
    [TestCase(33_001, 5000, true, false, 0)]
    [TestCase(33_001, 5000, false, true, 0)]
    [TestCase(33_001, 5000, true, true, 0)]
    [TestCase(3001, 400, false, false, 3)]
    [TestCase(3001, 400, true, false, 3)]
    [TestCase(3001, 400, false, true, 13)]
    [TestCase(33_001, 5000, true, true, 3)]
    [TestCase(33_001, 5000, false, false, 13)]
    public void AlignedPlannedSumsAreExact(int e, int v, bool mean, bool stream, int srcShift)
    {
        const int f = 64;
        var idx = Rand.Ints(61, e, 0, v - 100);
        var data = Rand.Floats(62, e * f);
        using var index = Tensor.FromArray<int>(Cpu, idx, new Shape(e));
        using var plan = TensorOps.BuildSegmentPlan(index, v);
        var (srcFlat, srcSlice) = Aligned(e * f, DType.Float32, srcShift);
        var (yFlat, ySlice) = Aligned(v * f, DType.Float32);
        using (srcFlat)
        using (srcSlice)
        using (yFlat)
        using (ySlice)
        using (var source = srcSlice.View(e, f))
        using (var y = ySlice.View(v, f))
        using (var counts = mean ? Tensor.Empty(Cpu, new Shape(v)) : null)
        using (var upload = Tensor.FromArray<float>(Cpu, data, new Shape(e, f)))
        {
            TensorOps.CopyInto(upload, source);
            Assert.That((Address(source) & 63, Address(y) & 63), Is.EqualTo(((nuint)(4 * srcShift), (nuint)0)), "view placement");
            SegmentReduce<float>.ReducePlanned(source, plan.Offsets, plan.Order, y, counts, mean ? "SegmentMean" : "ScatterAdd", stream ? 0 : long.MaxValue);
            var sum = new float[v * f];
            var size = new int[v];
            for (int i = 0; i < e; i++)
            {
                size[idx[i]]++;
                for (int c = 0; c < f; c++) sum[idx[i] * f + c] += data[i * f + c];
            }
            var got = yFlat.ToArray<float>();
            int o = ySlice.Offset;
            for (int i = 0; i < o; i++) Assert.That(got[i], Is.EqualTo(7f), $"element {i} before y");
            for (int i = o + v * f; i < got.Length; i++) Assert.That(got[i], Is.EqualTo(7f), $"element {i} after y");
            for (int n = 0; n < v; n++)
            {
                for (int c = 0; c < f; c++)
                {
                    float want = mean && size[n] > 1 ? sum[n * f + c] / size[n] : sum[n * f + c];
                    if (got[o + n * f + c] != want) Assert.Fail($"node {n} col {c}: {got[o + n * f + c]} != {want}");
                }
            }
            if (counts is not null) Assert.That(counts.ToArray<float>(), Is.EqualTo(Array.ConvertAll(size, x => (float)x)), "segment sizes");
        }
    }

    // The gather's output ≥ 8 MB (streamed) at a 64-byte boundary: F = 64 float32 (one 4-vector block per
    // row) and float64 (two), E odd so chunks end mid-way, with and without the mean's counts.
    [TestCase(DType.Float32, 33_001)]
    [TestCase(DType.Float64, 16_501)]
    public void AlignedGatherWritesEveryRow(DType dtype, int e)
    {
        const int f = 64, v = 3000;
        var g = Rand.Doubles(63, v * f);
        var idx = Rand.Ints(64, e, 0, v);
        var countOf = new double[v];
        foreach (int i in idx) countOf[i]++;
        for (int n = 0; n < v; n++) countOf[n] = Math.Max(countOf[n], 1);
        using var gy = dtype == DType.Float32 ? Tensor.FromArray<float>(Cpu, Array.ConvertAll(g, x => (float)x), new Shape(v, f)) : Tensor.FromArray<double>(Cpu, g, new Shape(v, f));
        using var index = Tensor.FromArray<int>(Cpu, idx, new Shape(e));
        using var counts = dtype == DType.Float32 ? Tensor.FromArray<float>(Cpu, Array.ConvertAll(countOf, x => (float)x), new Shape(v)) : Tensor.FromArray<double>(Cpu, countOf, new Shape(v));
        var gyT = gy.ToDoubleArray();
        foreach (var c in new[] { null, counts })
        {
            var (flat, slice) = Aligned(e * f, dtype);
            using (flat)
            using (slice)
            using (var dst = slice.View(e, f))
            {
                Assert.That(Address(dst) & 63, Is.EqualTo((nuint)0), "aligned output");
                Cpu.Graph.SegmentGather(gy, index, c, dst);
                var got = flat.ToDoubleArray();
                int o = slice.Offset;
                for (int i = 0; i < o; i++) Assert.That(got[i], Is.EqualTo(7.0), $"element {i} before the output");
                for (int i = o + e * f; i < got.Length; i++) Assert.That(got[i], Is.EqualTo(7.0), $"element {i} after the output");
                for (int i = 0; i < e; i++)
                {
                    for (int k = 0; k < f; k++)
                    {
                        double want = c is null ? gyT[idx[i] * f + k]
                            : dtype == DType.Float32 ? (float)gyT[idx[i] * f + k] / (float)countOf[idx[i]] : gyT[idx[i] * f + k] / countOf[idx[i]];
                        if (got[o + i * f + k] != want) Assert.Fail($"SegmentGather{(c is null ? "" : " / counts")}: row {i} col {k}: {got[o + i * f + k]} != {want}");
                    }
                }
            }
        }
    }

    // A bad index first, in the middle (negative) and last, in the aligned block path's range check.
    [TestCase(0, 3000)]
    [TestCase(16_500, -1)]
    [TestCase(33_000, 3000)]
    public void AlignedGatherRejectsAnIndexOutOfRange(int at, int value)
    {
        const int e = 33_001, f = 64, v = 3000;
        var idx = Rand.Ints(65, e, 0, v);
        idx[at] = value;
        using var gy = Tensor.Zeros(Cpu, new Shape(v, f));
        using var index = Tensor.FromArray<int>(Cpu, idx, new Shape(e));
        var (flat, slice) = Aligned(e * f, DType.Float32);
        using (flat)
        using (slice)
        using (var dst = slice.View(e, f))
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Cpu.Graph.SegmentGather(gy, index, null, dst));
            Assert.That(ex!.Message, Does.Contain("SegmentGather").And.Contain($"index {value}"));
        }
    }
}
