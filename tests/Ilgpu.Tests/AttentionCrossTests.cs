namespace Hep.Ilgpu.Tests;

/// <summary>
/// Masked softmax and fused pair-bias attention on the ILGPU CPU accelerator vs the CPU backend,
/// forward (output and log-sum-exp) and backward (q, k, v and bias gradients), with fully masked
/// query rows, a fully padded jet, class attention (Nq = 1, Nk = N + 1), head dims that are not powers
/// of two and lengths that are not multiples of the group (4) or block (32) sizes.
/// </summary>
public class AttentionCrossTests
{
    [TestCase(DType.Float32, 19)]
    [TestCase(DType.Float64, 19)]
    [TestCase(DType.Float32, 45)]
    [TestCase(DType.Float64, 45)]
    public void MaskedSoftmaxMatchesCpu(DType dtype, int n)
    {
        // x (2, 3, 5, n) with a key mask (2, 1, 1, n) and a per-row scalar mask (2, 3, 5, 1); row 0 of jet 1 gets large logits.
        var xd = Rand.Doubles(301, 2 * 3 * 5 * n, -4, 4);
        xd[15 * n] = 1234;
        var keyMask = Enumerable.Range(0, 2 * n).Select(i => i % 4 == 1 ? double.NegativeInfinity : 0).ToArray();
        var rowMask = Enumerable.Range(0, 30).Select(i => i % 7 == 3 ? double.NegativeInfinity : 0).ToArray();
        var x = Twin.Pair(xd, new Shape(2, 3, 5, n), dtype);
        var km = Twin.Pair(keyMask, new Shape(2, 1, 1, n), dtype);
        var rm = Twin.Pair(rowMask, new Shape(2, 3, 5, 1), dtype);
        var g = Twin.Random(302, x.Cpu.Shape, dtype);
        var tol = Twin.Summed(dtype, n);
        foreach (var (label, mask) in new[] { ("key mask", km), ("row mask", rm) })
        {
            using var yc = TensorOps.MaskedSoftmax(x.Cpu, mask.Cpu);
            using var yg = TensorOps.MaskedSoftmax(x.Gpu, mask.Gpu);
            Twin.Same(yc, yg, tol, $"MaskedSoftmax {label}");
            Assert.That(yg.ToDoubleArray(), Has.All.Matches<double>(double.IsFinite), $"{label}: no NaN/∞");
            using var bc = TensorOps.MaskedSoftmaxBackward(yc, g.Cpu);
            using var bg = TensorOps.MaskedSoftmaxBackward(yg, g.Gpu);
            Twin.Same(bc, bg, tol, $"MaskedSoftmaxBackward {label}");
        }
        using var plainC = TensorOps.MaskedSoftmax(x.Cpu, null);
        using var plainG = TensorOps.MaskedSoftmax(x.Gpu, null);
        Twin.Same(plainC, plainG, tol, "MaskedSoftmax without mask");
        var fully = rowMask.Select((v, i) => (v, i)).Where(t => double.IsNegativeInfinity(t.v)).Select(t => t.i).First();
        using var yr = TensorOps.MaskedSoftmax(x.Gpu, rm.Gpu);
        Assert.That(yr.ToDoubleArray().Skip(fully * n).Take(n), Has.All.EqualTo(0.0), "fully masked row gives zeros");
        Twin.Dispose(x, km, rm, g);
    }

    // (B, H, Nq, Nk, D, bias): ParT-like self-attention with bias, class attention (Nq = 1, Nk = N + 1),
    // a head dim of 5, several key/query blocks (Nk = 70 > 2·32).
    // The dropout cases (p > 0) check that both backends drop exactly the same weights: a single
    // differing keep decision moves an output by a whole weight, far beyond the tolerance.
    [TestCase(DType.Float32, 2, 3, 37, 37, 16, true, 0.0)]
    [TestCase(DType.Float64, 2, 3, 37, 37, 16, true, 0.0)]
    [TestCase(DType.Float32, 3, 2, 1, 34, 16, false, 0.0)]
    [TestCase(DType.Float64, 3, 2, 1, 34, 32, false, 0.0)]
    [TestCase(DType.Float32, 2, 1, 9, 70, 5, true, 0.0)]
    [TestCase(DType.Float32, 2, 3, 37, 37, 16, true, 0.1)]
    [TestCase(DType.Float64, 2, 3, 37, 37, 16, true, 0.3)]
    [TestCase(DType.Float32, 3, 2, 1, 34, 16, false, 0.1)]
    [TestCase(DType.Float64, 2, 1, 9, 70, 5, true, 0.5)]
    public void AttentionForwardAndBackwardMatchCpu(DType dtype, int b, int h, int nq, int nk, int d, bool withBias, double dropoutP)
    {
        var dropout = dropoutP == 0 ? AttentionDropout.None : new AttentionDropout(dropoutP, 4242);
        var q = Twin.Random(311, new Shape(b, h, nq, d), dtype, -2, 2);
        var k = Twin.Random(312, new Shape(b, h, nk, d), dtype, -2, 2);
        var v = Twin.Random(313, new Shape(b, h, nk, d), dtype);
        var bias = withBias ? Twin.Random(314, new Shape(b, h, nq, nk), dtype, -2, 2) : ((Tensor, Tensor)?)null;
        // Jet 0 keeps every key; the last jet is fully padded (its queries see no valid key); others lose a scattered third.
        var maskData = Enumerable.Range(0, b * nk).Select(i => i < nk ? 1.0 : i >= (b - 1) * nk ? 0.0 : i % 3 == 1 ? 0 : 1).ToArray();
        var mask = Twin.Pair(maskData, new Shape(b, nk), dtype);
        var tol = Twin.Summed(dtype, nk * d);
        using var oc = TensorOps.Attention(q.Cpu, k.Cpu, v.Cpu, bias?.Item1, mask.Cpu, dropout, out var lc);
        using var og = TensorOps.Attention(q.Gpu, k.Gpu, v.Gpu, bias?.Item2, mask.Gpu, dropout, out var lg);
        Twin.Same(oc, og, tol, "attention output");
        if (dropout.Active)
        {
            using var undropped = TensorOps.Attention(q.Gpu, k.Gpu, v.Gpu, bias?.Item2, mask.Gpu);
            Assert.That(og.ToDoubleArray(), Is.Not.EqualTo(undropped.ToDoubleArray()), "dropout changed the output");
        }
        Twin.Same(lc, lg, tol, "log-sum-exp");
        var lse = lg.ToDoubleArray();
        int perJet = h * nq;
        Assert.That(lse.Skip((b - 1) * perJet), Has.All.EqualTo(double.NegativeInfinity), "fully padded jet: lse = −∞");
        Assert.That(og.ToDoubleArray().Skip((b - 1) * perJet * d), Has.All.EqualTo(0.0), "fully padded jet: zero output");

        var go = Twin.Random(315, oc.Shape, dtype);
        var gc = TensorOps.AttentionBackward(q.Cpu, k.Cpu, v.Cpu, bias?.Item1, mask.Cpu, dropout, oc, lc, go.Cpu, withBias);
        var gg = TensorOps.AttentionBackward(q.Gpu, k.Gpu, v.Gpu, bias?.Item2, mask.Gpu, dropout, og, lg, go.Gpu, withBias);
        Twin.Same(gc.GradQ, gg.GradQ, tol, "gradQ");
        Twin.Same(gc.GradK, gg.GradK, tol, "gradK");
        Twin.Same(gc.GradV, gg.GradV, tol, "gradV");
        if (withBias) Twin.Same(gc.GradBias!, gg.GradBias!, tol, "gradBias");
        else Assert.That(gg.GradBias, Is.Null);
        Twin.Dispose(q, k, v, mask, go, (lc, lg), (gc.GradQ, gg.GradQ), (gc.GradK, gg.GradK), (gc.GradV, gg.GradV));
        if (bias is { } bp) Twin.Dispose(bp, (gc.GradBias!, gg.GradBias!));
    }

    [Test]
    public void AttentionWithoutMaskOrBiasMatchesCpu()
    {
        var q = Twin.Random(321, new Shape(1, 2, 6, 8), DType.Float32);
        var k = Twin.Random(322, new Shape(1, 2, 11, 8), DType.Float32);
        var v = Twin.Random(323, new Shape(1, 2, 11, 8), DType.Float32);
        using var oc = TensorOps.Attention(q.Cpu, k.Cpu, v.Cpu, null, null, out var lc);
        using var og = TensorOps.Attention(q.Gpu, k.Gpu, v.Gpu, null, null, out var lg);
        var tol = Twin.Summed(DType.Float32, 88);
        Twin.Same(oc, og, tol, "output");
        Twin.Same(lc, lg, tol, "lse");
        var go = Twin.Random(324, oc.Shape, DType.Float32);
        var gc = TensorOps.AttentionBackward(q.Cpu, k.Cpu, v.Cpu, null, null, oc, lc, go.Cpu, false);
        var gg = TensorOps.AttentionBackward(q.Gpu, k.Gpu, v.Gpu, null, null, og, lg, go.Gpu, false);
        Twin.Same(gc.GradQ, gg.GradQ, tol, "gradQ");
        Twin.Same(gc.GradK, gg.GradK, tol, "gradK");
        Twin.Same(gc.GradV, gg.GradV, tol, "gradV");
        Twin.Dispose(q, k, v, go, (lc, lg), (gc.GradQ, gg.GradQ), (gc.GradK, gg.GradK), (gc.GradV, gg.GradV));
    }

    [Test]
    public void HeadDimBeyondTheKernelLimitIsRefusedNamingTheOp()
    {
        using var q = Tensor.Zeros(Twin.Gpu, new Shape(1, 1, 2, FlashAttentionKernels.MaxD + 1));
        var ex = Assert.Throws<BackendNotSupportedException>(() => TensorOps.Attention(q, q, q, null, null));
        Assert.That(ex!.Message, Does.Contain("AttentionForward"));
    }
}
