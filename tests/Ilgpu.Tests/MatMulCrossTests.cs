namespace Hep.Ilgpu.Tests;

/// <summary>Tiled GEMM on ILGPU's CPU accelerator vs the CPU backend's packed GEMM.</summary>
public class MatMulCrossTests
{
    // Edges of the 16-wide CPU-accelerator tile and 64-wide GPU tile, the 16-deep K panel, empty dims.
    [TestCase(1, 1, 1, 1)]
    [TestCase(1, 7, 5, 33)]
    [TestCase(2, 16, 16, 16)]
    [TestCase(1, 17, 33, 15)]
    [TestCase(3, 65, 70, 31)]
    [TestCase(1, 129, 300, 65)]
    [TestCase(2, 0, 4, 3)]
    [TestCase(2, 3, 0, 4)]
    public void MatchesCpu(int batch, int m, int k, int n)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var a = Twin.Random(61, new Shape(batch, m, k), dtype);
            var b = Twin.Random(62, new Shape(batch, k, n), dtype);
            using var cc = TensorOps.MatMul(a.Cpu, b.Cpu);
            using var cg = TensorOps.MatMul(a.Gpu, b.Gpu);
            Twin.Same(cc, cg, Twin.Summed(dtype, k), $"{dtype} {batch}x{m}x{k}x{n}", allowAllZero: m * k == 0);
            Twin.Dispose(a, b);
        }
    }

    [Test]
    public void TransposedOperandsBroadcastBatchAndAccumulate([Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int batch = 4, m = 19, k = 37, n = 45;
        var aRaw = Twin.Random(63, new Shape(batch, k, m), dtype);
        var bRaw = Twin.Random(64, new Shape(n, k), dtype);
        using var ac = aRaw.Cpu.Transpose(1, 2);
        using var ag = aRaw.Gpu.Transpose(1, 2);
        using var bc = bRaw.Cpu.Transpose(0, 1);
        using var bg = bRaw.Gpu.Transpose(0, 1);
        using var cc = TensorOps.MatMul(ac, bc);
        using var cg = TensorOps.MatMul(ag, bg);
        Assert.That(cg.Shape, Is.EqualTo(new Shape(batch, m, n)));
        Twin.Same(cc, cg, Twin.Summed(dtype, k), $"transposed/broadcast {dtype}");
        // Accumulate: c += a·b with a stride-0 batch operand.
        using var b3c = bc.Unsqueeze(0);
        using var b3g = bg.Unsqueeze(0);
        using var bec = b3c.Expand(new Shape(batch, k, n));
        using var beg = b3g.Expand(new Shape(batch, k, n));
        using var accC = Tensor.Full(Twin.Cpu, new Shape(batch, m, n), 1.0, dtype);
        using var accG = Tensor.Full(Twin.Gpu, new Shape(batch, m, n), 1.0, dtype);
        TensorOps.MatMulAccumulate(ac, bec, accC);
        TensorOps.MatMulAccumulate(ag, beg, accG);
        Twin.Same(accC, accG, Twin.Summed(dtype, k), $"accumulate {dtype}");
        Twin.Dispose(aRaw, bRaw);
    }

    // Batch-reduced GEMM (weight-gradient form, b a transposed view): the CPU's accumulating kernel vs
    // the default batched-products-then-sum on ILGPU.
    [TestCase(1, 7, 5, 33)]
    [TestCase(6, 17, 70, 15)]
    [TestCase(0, 3, 4, 5)]
    public void BatchSumMatchesCpu(int batch, int m, int k, int n)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var a = Twin.Random(67, new Shape(batch, m, k), dtype);
            var b = Twin.Random(68, new Shape(batch, n, k), dtype);
            using var btc = b.Cpu.Transpose(1, 2);
            using var btg = b.Gpu.Transpose(1, 2);
            using var cc = TensorOps.MatMulBatchSum(a.Cpu, btc);
            using var cg = TensorOps.MatMulBatchSum(a.Gpu, btg);
            Twin.Same(cc, cg, Twin.Summed(dtype, Math.Max(batch * k, 1)), $"Σ {dtype} {batch}x{m}x{k}x{n}", allowAllZero: batch * k == 0);
            Twin.Dispose(a, b);
        }
    }

    // Fused epilogue (row scale/shift + column bias + activation) on ILGPU vs the CPU's packed GEMM, with a
    // broadcast rank-2 left operand (conv layout) and sizes off both backends' tiles and K panels.
    [Test]
    public void EpilogueMatchesCpu([Values(GemmActivation.None, GemmActivation.Relu, GemmActivation.Gelu)] GemmActivation act,
        [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int batch = 3, m = 37, k = 300, n = 70;
        var w = Twin.Random(91, new Shape(m, k), dtype);
        var x = Twin.Random(92, new Shape(batch, k, n), dtype);
        var scale = Twin.Random(93, new Shape(m), dtype, 0.5, 2);
        var shift = Twin.Random(94, new Shape(m), dtype);
        var bias = Twin.Random(95, new Shape(n), dtype);
        using var cc = TensorOps.MatMulEpilogue(w.Cpu, x.Cpu, new GemmEpilogue(scale.Cpu, shift.Cpu, bias.Cpu, act));
        using var cg = TensorOps.MatMulEpilogue(w.Gpu, x.Gpu, new GemmEpilogue(scale.Gpu, shift.Gpu, bias.Gpu, act));
        Twin.Same(cc, cg, Twin.Summed(dtype, k), $"epilogue {act} {dtype}");
        using var rc = TensorOps.MatMulEpilogue(w.Cpu, x.Cpu, GemmEpilogue.ColumnBiasThen(bias.Cpu, act));
        using var rg = TensorOps.MatMulEpilogue(w.Gpu, x.Gpu, GemmEpilogue.ColumnBiasThen(bias.Gpu, act));
        Twin.Same(rc, rg, Twin.Summed(dtype, k), $"column bias {act} {dtype}");
        Twin.Dispose(w, x, scale, shift, bias);
    }

    [Test]
    public void MatrixVectorProduct()
    {
        var a = Twin.Random(65, new Shape(23, 41), DType.Float32);
        var v = Twin.Random(66, new Shape(41), DType.Float32);
        using var yc = TensorOps.MatMul(a.Cpu, v.Cpu);
        using var yg = TensorOps.MatMul(a.Gpu, v.Gpu);
        Twin.Same(yc, yg, Twin.Summed(DType.Float32, 41), "matvec");
        Twin.Dispose(a, v);
    }
}
