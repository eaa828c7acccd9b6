using System.Runtime.Intrinsics.X86;
using Hep.Kernels.Cpu;
using Hep.Kernels.Cpu.Attention;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// The masked softmax's pipelined rows (whole vectors, streaming or not) take the mask row once per run
/// of rows sharing it: the mask cursor's runs against its row-by-row walk, and the kernel against float64
/// under every broadcast pattern of the mask's leading axes, with worker ranges that split runs.
/// </summary>
public class MaskedSoftmaxRunTests
{
    // Leading-axis shapes and strides of expanded masks: broadcast (stride 0) axes at the end, in the
    // middle, at the front, size-1 axes with a stride, and no broadcast at all.
    private static readonly (int[] Shape, int[] Strides)[] Walks =
    [
        ([4, 3, 5], [7, 0, 0]),
        ([4, 3, 5], [7, 2, 0]),
        ([4, 3, 5], [0, 7, 0]),
        ([4, 3, 5], [7, 0, 11]),
        ([4, 3, 5], [0, 0, 0]),
        ([4, 1, 5], [9, 5, 0]),
        ([4, 3, 1], [9, 3, 1]),
        ([6], [3]),
        ([6], [0]),
        ([], []),
    ];

    [Test]
    public void CursorRunsVisitTheSameMaskRowsAsTheRowWalk()
    {
        foreach (var (shape, strides) in Walks)
        {
            int rows = shape.Aggregate(1, (a, b) => a * b);
            var walk = new MaskWalk(shape, strides, 13);
            var expect = new int[rows];
            var step = walk.At(0);
            for (int r = 0; r < rows; r++)
            {
                expect[r] = step.Offset;
                if (r + 1 < rows) step.Next();
            }
            string label = $"shape [{string.Join(",", shape)}] strides [{string.Join(",", strides)}]";
            // Runs from every starting row (a worker's range starts anywhere).
            for (int start = 0; start < rows; start++)
            {
                var cursor = walk.At(start);
                int r = start, runs = 0;
                while (r < rows)
                {
                    int count = cursor.Repeats();
                    Assert.That(count, Is.GreaterThanOrEqualTo(1), $"{label}: run at row {r}");
                    count = Math.Min(count, rows - r);
                    for (int k = 0; k < count; k++)
                        Assert.That(expect[r + k], Is.EqualTo(cursor.Offset), $"{label}: start {start}, row {r + k}");
                    r += count;
                    runs++;
                    if (r < rows) cursor.NextRun();
                }
                // A run ends where the mask row changes or a non-broadcast axis steps (never earlier).
                int trailing = 1;
                for (int a = shape.Length - 1; a >= 0 && (strides[a] == 0 || shape[a] == 1); a--) trailing *= shape[a];
                Assert.That(runs, Is.EqualTo((rows - 1) / trailing - start / trailing + 1), $"{label}: start {start}, run count");
            }
        }
    }

    // Masks of shape (B|1, H|1, Q|1, N|1) expanded over x (B, H, Q, N): runs of every length, fully
    // masked jets and rows, and masks broadcast along the row (last-axis stride 0). 105 rows: at n = 128
    // two workers take rows [0, 52) and [52, 105), splitting runs of 7 and 21 rows.
    [TestCase(16)]
    [TestCase(48)]
    [TestCase(128)]
    public void EveryMaskBroadcastMatchesFloat64(int n)
    {
        var backend = CpuBackend.Shared;
        const int b = 5, h = 3, q = 7;
        int rows = b * h * q;
        var x = Rand.Floats(500 + n, rows * n, -12, 12);
        var rng = new Random(n);
        foreach (var dims in new[] { new[] { b, 1, 1, n }, [b, h, 1, n], [1, 1, 1, n], [b, 1, q, n], [1, h, 1, n], [b, h, q, 1], [b, 1, 1, 1], [b, h, q, n] })
        {
            int count = dims.Aggregate(1, (a, c) => a * c);
            var mask = new float[count];
            for (int i = 0; i < count; i++)
                mask[i] = rng.Next(4) == 0 ? float.NegativeInfinity : (float)(rng.NextDouble() * 2 - 1);
            if (dims[^1] == n)
            {
                // A masked tail of whole vectors in every mask row, and the first mask row fully masked.
                for (int row = 0; row < count / n; row++)
                    for (int j = Math.Max(1, n - 16 * (row % 3)); j < n; j++) mask[row * n + j] = float.NegativeInfinity;
                if (count > n)
                    for (int j = 0; j < n; j++) mask[j] = float.NegativeInfinity;
            }
            else mask[0] = float.NegativeInfinity;
            float MaskAt(int r, int j)
            {
                int bi = r / (h * q), hi = r / q % h, qi = r % q;
                int idx = (((dims[0] == 1 ? 0 : bi) * dims[1] + (dims[1] == 1 ? 0 : hi)) * dims[2] + (dims[2] == 1 ? 0 : qi)) * dims[3] + (dims[3] == 1 ? 0 : j);
                return mask[idx];
            }
            var expect = new double[rows * n];
            int fullyMasked = 0;
            for (int r = 0; r < rows; r++)
            {
                var row = ReferenceRow(x, r * n, n, j => MaskAt(r, j));
                row.CopyTo(expect, r * n);
                if (row.All(v => v == 0)) fullyMasked++;
            }
            Assert.That(fullyMasked, Is.LessThan(rows), "not every row fully masked");
            if (count > n) Assert.That(fullyMasked, Is.GreaterThan(0), "some rows fully masked");
            using var xt = Tensor.FromArray<float>(backend, x, new Shape(b, h, q, n));
            using var mt = Tensor.FromArray<float>(backend, mask, new Shape(dims));
            using var mv = mt.Expand(xt.Shape);
            using var y = Tensor.Full(backend, new Shape(b, h, q, n), 7.0);
            backend.Attention.MaskedSoftmaxForward(xt, mv, y);
            var yv = y.ToArray<float>();
            string label = $"n = {n}, mask ({string.Join(", ", dims)})";
            Assert.That(yv.All(float.IsFinite), Is.True, $"{label}: finite");
            for (int r = 0; r < rows; r++)
                if (expect.AsSpan(r * n, n).ToArray().All(v => v == 0))
                    Assert.That(yv.AsSpan(r * n, n).ToArray(), Has.All.EqualTo(0f), $"{label}: fully masked row {r}");
            TensorAssert.Close(yv.Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, label);
        }
    }

    // The streaming pipelined path (output ≥ the streaming threshold, whole vectors) under a per-(b, h)
    // mask (runs of Q rows), a per-query mask (runs of 1 row) and a row mask broadcast along the row.
    [Test]
    public void StreamingRunsMatchFloat64()
    {
        var backend = CpuBackend.Shared;
        const int b = 16, h = 8, q = 131, n = 128;
        int rows = b * h * q;
        Assert.That(StreamingStores.Pays<float>((long)rows * n), Is.EqualTo(Avx512F.IsSupported), "reaches the streaming path");
        var x = Rand.Floats(611, rows * n, -9, 9);
        var rng = new Random(3);
        foreach (var dims in new[] { new[] { b, h, 1, n }, [b, 1, q, n], [b, h, q, 1] })
        {
            int count = dims.Aggregate(1, (a, c) => a * c);
            var mask = new float[count];
            for (int i = 0; i < count; i++) mask[i] = rng.Next(5) == 0 ? float.NegativeInfinity : 0f;
            if (dims[^1] == n)
                for (int row = 0; row < count / n; row++)
                    for (int j = row % 7 == 0 ? 0 : 1 + row % n; j < n; j++) mask[row * n + j] = float.NegativeInfinity;
            using var xt = Tensor.FromArray<float>(backend, x, new Shape(b, h, q, n));
            using var mt = Tensor.FromArray<float>(backend, mask, new Shape(dims));
            using var mv = mt.Expand(xt.Shape);
            using var y = Tensor.Zeros(backend, new Shape(b, h, q, n));
            backend.Attention.MaskedSoftmaxForward(xt, mv, y);
            var yv = y.ToArray<float>();
            var expect = new double[rows * n];
            for (int r = 0; r < rows; r++)
            {
                int bi = r / (h * q), hi = r / q % h, qi = r % q;
                int baseIdx = ((bi * dims[1] + (dims[1] == 1 ? 0 : hi)) * dims[2] + (dims[2] == 1 ? 0 : qi)) * dims[3];
                ReferenceRow(x, r * n, n, j => mask[baseIdx + (dims[3] == 1 ? 0 : j)]).CopyTo(expect, r * n);
            }
            Assert.That(expect.Max(), Is.GreaterThan(1e-3), "reference not degenerate");
            TensorAssert.Close(yv.Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, $"mask ({string.Join(", ", dims)})");
        }
    }

    // Padding-style key masks (B, 1, 1, N): zeros, then −∞ from the jet's length on. The pipelined runs add
    // such a mask row to the last active vector only; a mask row with a finite nonzero entry in an earlier
    // vector (jet 1), a fully padded jet (jet 3) and an all-zero row (jet 2) must still match float64.
    // Rows with logits far from 0 (every 5th row, +300 or −200) take the shifted path between rows that
    // do not (shift 0, no subtraction). q = 40: ordinary stores; q = 3000: streaming, chunks claimed in turn.
    [TestCase(40)]
    [TestCase(3000)]
    public void PaddingMaskRunsMatchFloat64(int q)
    {
        var backend = CpuBackend.Shared;
        const int b = 6, h = 2, n = 128;
        int rows = b * h * q;
        var x = Rand.Floats(71, rows * n, -6, 6);
        for (int r = 0; r < rows; r += 5)
            for (int j = 0; j < n; j++) x[r * n + j] += r % 10 == 0 ? 300f : -200f;
        int[] lengths = [70, 100, 128, 0, 16, 17];
        var mask = new float[b * n];
        for (int bi = 0; bi < b; bi++)
            for (int j = lengths[bi]; j < n; j++) mask[bi * n + j] = float.NegativeInfinity;
        mask[1 * n + 3] = -2.5f;
        using var xt = Tensor.FromArray<float>(backend, x, new Shape(b, h, q, n));
        using var mt = Tensor.FromArray<float>(backend, mask, new Shape(b, 1, 1, n));
        using var mv = mt.Expand(xt.Shape);
        using var y = Tensor.Full(backend, new Shape(b, h, q, n), 7.0);
        backend.Attention.MaskedSoftmaxForward(xt, mv, y);
        var yv = y.ToArray<float>();
        var expect = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            int bi = r / (h * q);
            ReferenceRow(x, r * n, n, j => mask[bi * n + j]).CopyTo(expect, r * n);
        }
        Assert.That(yv.All(float.IsFinite), Is.True, "finite");
        Assert.That(yv.AsSpan(3 * h * q * n, h * q * n).ToArray(), Has.All.EqualTo(0f), "fully padded jet gives zeros");
        TensorAssert.Close(yv.Select(v => (double)v).ToArray(), expect, 1e-9, 2e-6, $"q = {q}");
    }

    // Large calls are split into chunks claimed in turn: every row is covered exactly once, by ranges
    // of whole chunks (the last one ragged) starting at multiples of the chunk; small calls keep the
    // static split (at most one range per core).
    [TestCase(128, 16387)]
    [TestCase(1001, 2095)]
    [TestCase(128, 3000)]
    public void SplitCoversEveryRowOnce(int n, int rows)
    {
        int chunk = CpuParallel.RowChunkBytes / (n * sizeof(float));
        var hits = new int[rows];
        var ranges = new System.Collections.Concurrent.ConcurrentBag<(int S, int E)>();
        CpuParallel.ForRows(rows, (long)n * sizeof(float), 8L * n, (s, e) =>
        {
            ranges.Add((s, e));
            for (int r = s; r < e; r++) Interlocked.Increment(ref hits[r]);
        });
        Assert.That(hits, Has.All.EqualTo(1), "each row once");
        bool chunked = rows >= 2 * CpuParallel.Threads * chunk;
        if (chunked)
        {
            Assert.That(ranges.Count, Is.EqualTo((rows + chunk - 1) / chunk), "one range per chunk");
            Assert.That(ranges.All(r => r.S % chunk == 0 && r.E == Math.Min(rows, r.S + chunk)), "whole chunks");
        }
        else Assert.That(ranges.Count, Is.LessThanOrEqualTo(CpuParallel.Threads), "static split");
    }

    // float64 softmax(x + mask) of one row (zeros when every entry is −∞).
    private static double[] ReferenceRow(float[] x, int offset, int n, Func<int, float> mask)
    {
        var logits = new double[n];
        double max = double.NegativeInfinity;
        for (int j = 0; j < n; j++) max = Math.Max(max, logits[j] = (double)x[offset + j] + mask(j));
        var y = new double[n];
        if (double.IsNegativeInfinity(max)) return y;
        double sum = 0;
        for (int j = 0; j < n; j++) sum += y[j] = Math.Exp(logits[j] - max);
        for (int j = 0; j < n; j++) y[j] /= sum;
        return y;
    }
}
