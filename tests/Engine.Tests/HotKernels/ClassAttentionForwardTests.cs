using Hep.Kernels.Cpu;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// The CPU class-attention forward (single-query kernel: float32, Nq = 1, D = 16) at its block edges against a
/// float64 host reference: jets whose last valid key falls anywhere in a 16-key block, a jet without valid keys,
/// a jet with holes, Nk not a multiple of 16, with and without bias, k and v at starts shifted by 0 … 15 floats
/// (whatever their alignment, the kernel's unaligned loads must give the same values). The kernel reads no v row after a jet's last valid key, so those rows hold NaN here (the
/// reference multiplies zeros); and a NaN score among masked keys must come out NaN, not as an empty row.
/// </summary>
public class ClassAttentionForwardTests
{
    private const int H = 3, Nk = 45, D = 16;

    // Real lengths: all 45 keys (a 13-key tail block), none, 1, 15, 16, 17, 33, and 40 with holes at 3 and 17.
    private static readonly int[] Real = [Nk, 0, 1, 15, 16, 17, 33, 40];

    [TestCase(false, 0, 0)]
    [TestCase(true, 1, 6)]
    [TestCase(false, 9, 15)]
    [TestCase(true, 15, 3)]
    public void ForwardMatchesHostReferenceAtKeyTails(bool withBias, int kOffset, int vOffset)
    {
        var backend = CpuBackend.Shared;
        int b = Real.Length;
        var q = Rand.Doubles(81, b * H * D, -2, 2);
        var k = Rand.Doubles(82, b * H * Nk * D, -2, 2);
        var v = Rand.Doubles(83, b * H * Nk * D);
        var bias = withBias ? Rand.Doubles(84, b * H * Nk, -3, 3) : null;
        var mask = new double[b * Nk];
        for (int bi = 0; bi < b; bi++)
            for (int j = 0; j < Real[bi]; j++) mask[bi * Nk + j] = 1;
        mask[7 * Nk + 3] = mask[7 * Nk + 17] = 0;
        // v rows after each jet's last valid key: NaN for the kernel, 0 for the reference.
        var vKernel = (double[])v.Clone();
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < H; hi++)
                for (int j = Real[bi]; j < Nk; j++)
                    for (int c = 0; c < D; c++)
                    {
                        vKernel[((bi * H + hi) * Nk + j) * D + c] = double.NaN;
                        v[((bi * H + hi) * Nk + j) * D + c] = 0;
                    }
        using var qt = Tensor.FromArray<float>(backend, Array.ConvertAll(q, x => (float)x), new Shape(b, H, 1, D));
        using var kt = Shifted(backend, k, new Shape(b, H, Nk, D), kOffset, out var kStorage);
        using var vt = Shifted(backend, vKernel, new Shape(b, H, Nk, D), vOffset, out var vStorage);
        using var bt = bias is null ? null : Tensor.FromArray<float>(backend, Array.ConvertAll(bias, x => (float)x), new Shape(b, H, 1, Nk));
        using var mt = Tensor.FromArray<float>(backend, Array.ConvertAll(mask, x => (float)x), new Shape(b, Nk));
        using (kStorage)
        using (vStorage)
        using (var output = TensorOps.Attention(qt, kt, vt, bt, mt, out var lse))
        using (lse)
        {
            TensorAssert.Close(output, AttentionKernelTests.HostAttention(q, k, v, bias, mask, b, H, 1, Nk, D), 2e-5, 1e-4, "attention output");
            var expectedLse = HostLogSumExp(q, k, bias, mask, b);
            var l = lse.ToArray<float>();
            for (int row = 0; row < b * H; row++)
            {
                if (double.IsNegativeInfinity(expectedLse[row])) Assert.That(l[row], Is.EqualTo(float.NegativeInfinity), $"lse of row {row}");
                else Assert.That(l[row], Is.EqualTo(expectedLse[row]).Within(2e-5 + 1e-5 * Math.Abs(expectedLse[row])), $"lse of row {row}");
            }
            Assert.That(output.ToArray<float>().AsSpan(H * D, H * D).ToArray(), Has.All.EqualTo(0f), "the jet without valid keys");
        }
    }

    [Test]
    public void NaNScoreAmongMaskedKeysGivesNaN()
    {
        // Jet 0 has one valid key, whose k row holds a NaN in head 1; every other key of the jet is masked.
        var backend = CpuBackend.Shared;
        const int b = 2, nk = 20;
        var k = Rand.Doubles(92, b * H * nk * D, -2, 2);
        k[(1 * nk + 0) * D + 5] = double.NaN;
        var mask = new float[b * nk];
        mask[0] = 1;
        for (int j = 0; j < nk; j++) mask[nk + j] = 1;
        using var q = Rand.Tensor(backend, 91, new Shape(b, H, 1, D));
        using var kt = Tensor.FromArray<float>(backend, Array.ConvertAll(k, x => (float)x), new Shape(b, H, nk, D));
        using var v = Rand.Tensor(backend, 93, new Shape(b, H, nk, D));
        using var mt = Tensor.FromArray<float>(backend, mask, new Shape(b, nk));
        using var output = TensorOps.Attention(q, kt, v, null, mt, out var lse);
        using (lse)
        {
            var o = output.ToArray<float>();
            var l = lse.ToArray<float>();
            Assert.That(o.AsSpan(D, D).ToArray(), Has.All.NaN, "head with the NaN score");
            Assert.That(l[1], Is.NaN, "lse of the head with the NaN score");
            var others = o.AsSpan(0, D).ToArray().Concat(o.AsSpan(2 * D).ToArray()).ToArray();
            Assert.That(others, Has.All.Matches<float>(float.IsFinite), "the other heads");
            // Head 0 of jet 0 has one valid key: its output is that key's v row.
            var vRow = v.ToArray<float>().AsSpan(0, D).ToArray();
            Assert.That(o.AsSpan(0, D).ToArray(), Is.EqualTo(vRow).Within(1e-6f), "one valid key");
        }
    }

    // A (B, H, Nk, D) view of `values` starting `offset` floats into its own storage (filled with NaN around it).
    private static Tensor Shifted(IBackend backend, double[] values, Shape shape, int offset, out Tensor storage)
    {
        var all = new float[values.Length + 16];
        all.AsSpan().Fill(float.NaN);
        for (int i = 0; i < values.Length; i++) all[offset + i] = (float)values[i];
        storage = Tensor.FromArray<float>(backend, all, new Shape(all.Length));
        return storage.Slice(0, offset, values.Length).View(shape[0], shape[1], shape[2], shape[3]);
    }

    // float64 log-sum-exp of each (b, h) row; −∞ for a row without valid keys.
    private static double[] HostLogSumExp(double[] q, double[] k, double[]? bias, double[] mask, int b)
    {
        var lse = new double[b * H];
        double scale = 1 / Math.Sqrt(D);
        for (int row = 0; row < b * H; row++)
        {
            int bi = row / H;
            var logits = Enumerable.Range(0, Nk).Where(j => mask[bi * Nk + j] != 0).Select(j =>
                Enumerable.Range(0, D).Sum(c => q[row * D + c] * k[(row * Nk + j) * D + c]) * scale + (bias?[row * Nk + j] ?? 0)).ToArray();
            if (logits.Length == 0)
            {
                lse[row] = double.NegativeInfinity;
                continue;
            }
            double m = logits.Max();
            lse[row] = m + Math.Log(logits.Sum(x => Math.Exp(x - m)));
        }
        return lse;
    }
}
