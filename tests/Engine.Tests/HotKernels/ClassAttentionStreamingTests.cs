using System.Runtime.Intrinsics.X86;
using Hep.Engine.Ops;
using Hep.Kernels.Cpu;
using Hep.Kernels.Cpu.Attention;

namespace Hep.Engine.Tests.HotKernels;

/// <summary>
/// The CPU class-attention backward (single-query kernel: float32, Nq = 1, D = 16) at ParT's size, where dK
/// and dV (8.5 MB each) are written by whole-line non-temporal stores whatever their alignment: the streamed
/// gradients must equal the ordinary path's bit for bit, into destinations pre-filled with NaN that start 0,
/// 1, 6, 9 and 15 floats past a 64-byte line (dK and dV at different offsets), so a row or a line part the
/// streamed path leaves unwritten (a padded key's zero row, the one-key tail block of a full jet, a head's
/// first or last partial line) fails, and the NaNs just before and after each destination must survive.
/// The ordinary path itself is checked against float64 references by <see cref="AttentionKernelTests"/>.
/// </summary>
[NonParallelizable]
public class ClassAttentionStreamingTests
{
    private const int B = 128, H = 8, Nk = 129, D = 16;

    [TestCase(0, 0)]
    [TestCase(1, 6)]
    [TestCase(9, 15)]
    [TestCase(15, 0)]
    public void StreamedKeyGradientsEqualTheOrdinaryPath(int kOffset, int vOffset)
    {
        var backend = CpuBackend.Shared;
        long rows = (long)B * H * Nk;
        Assert.That(StreamingStores.Pays<float>(rows * D), Is.EqualTo(Avx512F.IsSupported), "reaches the streaming size");
        using var q = Random(backend, 71, new Shape(B, H, 1, D));
        using var k = Random(backend, 72, new Shape(B, H, Nk, D));
        using var v = Random(backend, 73, new Shape(B, H, Nk, D));
        using var gradOut = Random(backend, 74, new Shape(B, H, 1, D));
        // Real lengths 1 … 129 (129: all keys, with its one-key tail block), one jet without valid keys, one with holes.
        var mask = new float[B * Nk];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < (b == 5 ? 0 : 1 + b * 37 % Nk); j++) mask[b * Nk + j] = 1;
        Assert.That(Enumerable.Range(0, B).Count(b => mask[b * Nk + Nk - 1] == 1), Is.GreaterThan(0), "some jet is full");
        mask[7 * Nk + 2] = 0;
        using var m = Tensor.FromArray<float>(backend, mask, new Shape(B, Nk));
        using var output = TensorOps.Attention(q, k, v, null, m, out var lse);
        using (lse)
        {
            var ops = backend.Attention;
            double scale = TensorOps.AttentionScale(D);
            bool saved = FlashAttention<float>.StreamingKeyGradients;
            try
            {
                FlashAttention<float>.StreamingKeyGradients = false;
                using var gq0 = Tensor.Empty(backend, q.Shape);
                using var gk0 = Tensor.Empty(backend, k.Shape);
                using var gv0 = Tensor.Empty(backend, v.Shape);
                ops.AttentionBackward(q, k, v, null, m, scale, AttentionDropout.None, output, lse, gradOut, gq0, gk0, gv0, null);

                FlashAttention<float>.StreamingKeyGradients = true;
                using var gq1 = Tensor.Empty(backend, q.Shape);
                using var gk1 = NaNView(backend, k.Shape, kOffset, out var gkStorage, out int gkStart);
                using var gv1 = NaNView(backend, v.Shape, vOffset, out var gvStorage, out int gvStart);
                using (gkStorage)
                using (gvStorage)
                {
                    ops.AttentionBackward(q, k, v, null, m, scale, AttentionDropout.None, output, lse, gradOut, gq1, gk1, gv1, null);
                    Assert.That(gk1.ToArray<float>(), Is.EqualTo(gk0.ToArray<float>()), "dK");
                    Assert.That(gv1.ToArray<float>(), Is.EqualTo(gv0.ToArray<float>()), "dV");
                    Assert.That(gq1.ToArray<float>(), Is.EqualTo(gq0.ToArray<float>()), "dQ");
                    AssertOutsideUntouched(gkStorage, gkStart, (int)k.Shape.Numel, "dK");
                    AssertOutsideUntouched(gvStorage, gvStart, (int)v.Shape.Numel, "dV");
                }
            }
            finally
            {
                FlashAttention<float>.StreamingKeyGradients = saved;
            }
        }
    }

    private static Tensor Random(IBackend backend, ulong seed, Shape shape)
    {
        var t = Tensor.Zeros(backend, shape);
        backend.Random.Uniform(seed, -1, 1, t);
        return t;
    }

    // A view of the given shape whose element 0 lies `past` floats after a 64-byte line, with at least 16 floats
    // before and after it, all filled with NaN; storage: the flat tensor it views, start: its first element there.
    private static unsafe Tensor NaNView(IBackend backend, Shape shape, int past, out Tensor storage, out int start)
    {
        int n = (int)shape.Numel;
        storage = Tensor.Empty(backend, new Shape(n + 64));
        var array = CpuTensor.Array<float>(storage, "test");
        array.AsSpan().Fill(float.NaN);
        fixed (float* p = array) start = 16 + (int)((64 - (nint)(p + storage.Offset + 16) % 64) % 64) / sizeof(float) + past;
        using var flat = storage.Slice(0, start, n);
        var view = flat.View(shape.ToArray());
        fixed (float* p = array) Assert.That((long)(nint)(p + view.Offset) % 64, Is.EqualTo(past * sizeof(float)), "destination placement");
        return view;
    }

    private static void AssertOutsideUntouched(Tensor storage, int start, int n, string what)
    {
        var all = storage.ToArray<float>();
        Assert.That(all.AsSpan(0, start).ToArray(), Has.All.NaN, $"{what}: before the destination");
        Assert.That(all.AsSpan(start + n).ToArray(), Has.All.NaN, $"{what}: after the destination");
    }
}
