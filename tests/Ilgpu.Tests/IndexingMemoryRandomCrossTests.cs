namespace Hep.Ilgpu.Tests;

/// <summary>Gathers/scatter-adds, strided copy/cast/fill and counter-based randomness vs the CPU backend.</summary>
public class IndexingMemoryRandomCrossTests
{
    private static (Tensor Cpu, Tensor Gpu) Indices(int[] values, Shape shape) =>
        (Tensor.FromArray<int>(Twin.Cpu, values, shape), Tensor.FromArray<int>(Twin.Gpu, values, shape));

    [Test]
    public void IndexSelectAndIndexAddMatchCpu([Values(0, 1, 2)] int axis, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int[] dims = [3, 17, 5];
        var x = Twin.Random(71, new Shape(dims), dtype);
        var ids = Rand.Ints(72 + axis, 23, 0, dims[axis]); // duplicates included
        var idx = Indices(ids, new Shape(23));
        using var yc = TensorOps.IndexSelect(x.Cpu, axis, idx.Cpu);
        using var yg = TensorOps.IndexSelect(x.Gpu, axis, idx.Gpu);
        Twin.Same(yc, yg, (0, 0), $"IndexSelect axis {axis} {dtype}");
        var g = Twin.Random(73, yc.Shape, dtype);
        using var bc = TensorOps.IndexAdd(g.Cpu, axis, idx.Cpu, x.Cpu.Shape);
        using var bg = TensorOps.IndexAdd(g.Gpu, axis, idx.Gpu, x.Gpu.Shape);
        // Atomic adds of duplicates may sum in another order: a few ulps.
        Twin.Same(bc, bg, Twin.Summed(dtype, 23), $"IndexAdd axis {axis} {dtype}");
        Twin.Dispose(x, idx, g);
    }

    [Test]
    public void GatherAndScatterAddMatchCpu([Values(0, 1, 2)] int axis, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        int[] dims = [4, 9, 6];
        var x = Twin.Random(74, new Shape(dims), dtype);
        var idxShape = new Shape(dims.Select((d, i) => i == axis ? 7 : d).ToArray());
        var ids = Rand.Ints(75 + axis, (int)idxShape.Numel, 0, dims[axis]);
        var idx = Indices(ids, idxShape);
        using var yc = TensorOps.Gather(x.Cpu, axis, idx.Cpu);
        using var yg = TensorOps.Gather(x.Gpu, axis, idx.Gpu);
        Twin.Same(yc, yg, (0, 0), $"Gather axis {axis} {dtype}");
        var g = Twin.Random(76, idxShape, dtype);
        using var sc = TensorOps.ScatterAdd(g.Cpu, axis, idx.Cpu, x.Cpu.Shape);
        using var sg = TensorOps.ScatterAdd(g.Gpu, axis, idx.Gpu, x.Gpu.Shape);
        Twin.Same(sc, sg, Twin.Summed(dtype, 7), $"ScatterAdd axis {axis} {dtype}");
        Twin.Dispose(x, idx, g);
    }

    [Test]
    public void IntegerGatherAndOneHotMatchCpu()
    {
        var x = Twin.Pair(Enumerable.Range(0, 12).Select(i => (double)i * 3).ToArray(), new Shape(4, 3), DType.Int32);
        var idx = Indices([3, 3, 0, 1, 2], new Shape(5));
        using var yc = TensorOps.IndexSelect(x.Cpu, 0, idx.Cpu);
        using var yg = TensorOps.IndexSelect(x.Gpu, 0, idx.Gpu);
        Assert.That(yg.ToArray<int>(), Is.EqualTo(yc.ToArray<int>()));
        using var oc = TensorOps.OneHot(idx.Cpu, 4, DType.Float32);
        using var og = TensorOps.OneHot(idx.Gpu, 4, DType.Float32);
        Assert.That(og.ToArray<float>(), Is.EqualTo(oc.ToArray<float>()));
        Twin.Dispose(x, idx);
    }

    [Test]
    public void OutOfRangeIndicesThrowNamingTheOp()
    {
        using var x = Tensor.Zeros(Twin.Gpu, new Shape(3, 2));
        using var bad = Tensor.FromArray<int>(Twin.Gpu, [0, 3], new Shape(2));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.IndexSelect(x, 0, bad));
        Assert.That(ex!.Message, Does.Contain("IndexSelect").And.Contain("3"));
        using var bad2 = Tensor.FromArray<int>(Twin.Gpu, [0, -1, 1, 2, 0, 1], new Shape(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.Gather(x, 0, bad2));
        using var src = Tensor.Full(Twin.Gpu, new Shape(3, 2), 1.0);
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => TensorOps.ScatterAdd(src, 0, bad2, new Shape(3, 2)));
        Assert.That(ex2!.Message, Does.Contain("ScatterAdd"));
        // A valid launch after a failed one starts from a clean report.
        using var good = Tensor.FromArray<int>(Twin.Gpu, [2, 0], new Shape(2));
        using var y = TensorOps.IndexSelect(x, 0, good);
        Assert.That(y.Shape, Is.EqualTo(new Shape(2, 2)));
    }

    [Test]
    public void StridedCopyCastAndFillMatchCpu([Values(DType.Float32, DType.Float64, DType.Int32)] DType dtype)
    {
        var data = Enumerable.Range(0, 2 * 3 * 4 * 5).Select(i => (double)(i % 17) - 5.5).ToArray();
        var x = Twin.Pair(data, new Shape(2, 3, 4, 5), dtype);
        // Permuted + stepped slice + broadcast source views.
        using var pc = x.Cpu.Permute(3, 1, 0, 2);
        using var pg = x.Gpu.Permute(3, 1, 0, 2);
        using var sc = pc.Slice(0, 1, 2, step: 2);
        using var sg = pg.Slice(0, 1, 2, step: 2);
        using var cc = TensorOps.Contiguous(sc);
        using var cg = TensorOps.Contiguous(sg);
        Assert.That(cg.ToDoubleArray(), Is.EqualTo(cc.ToDoubleArray()), "strided copy");
        using var rowC = x.Cpu.Slice(0, 1, 1);
        using var rowG = x.Gpu.Slice(0, 1, 1);
        using var ec = rowC.Expand(new Shape(3, 3, 4, 5));
        using var eg = rowG.Expand(new Shape(3, 3, 4, 5));
        using var dc = TensorOps.Contiguous(ec);
        using var dg = TensorOps.Contiguous(eg);
        Assert.That(dg.ToDoubleArray(), Is.EqualTo(dc.ToDoubleArray()), "broadcast copy");
        foreach (var to in new[] { DType.Float32, DType.Float64, DType.Int32 })
        {
            using var kc = TensorOps.Cast(sc, to);
            using var kg = TensorOps.Cast(sg, to);
            Assert.That(kg.DType, Is.EqualTo(to));
            Assert.That(kg.ToDoubleArray(), Is.EqualTo(kc.ToDoubleArray()), $"cast {dtype} → {to}");
        }
        // Fill and CopyInto through a strided destination view.
        using var tc = x.Cpu.Transpose(1, 3);
        using var tg = x.Gpu.Transpose(1, 3);
        using var fc = tc.Slice(1, 1, 2, step: 2);
        using var fg = tg.Slice(1, 1, 2, step: 2);
        Twin.Cpu.Memory.Fill(fc, 7);
        Twin.Gpu.Memory.Fill(fg, 7);
        Assert.That(x.Gpu.ToDoubleArray(), Is.EqualTo(x.Cpu.ToDoubleArray()), "strided fill");
        var src = Twin.Pair(Rand.Doubles(77, (int)fc.Numel, -3, 3).Select(v => Math.Round(v)).ToArray(), fc.Shape, dtype);
        TensorOps.CopyInto(src.Cpu, fc);
        TensorOps.CopyInto(src.Gpu, fg);
        Assert.That(x.Gpu.ToDoubleArray(), Is.EqualTo(x.Cpu.ToDoubleArray()), "copy into a strided view");
        Twin.Dispose(x, src);
    }

    [Test]
    public void ConcatAndSliceCopyMatchCpu()
    {
        var a = Twin.Random(78, new Shape(3, 5), DType.Float32);
        var b = Twin.Random(79, new Shape(3, 2), DType.Float32);
        using var cc = TensorOps.Concat([a.Cpu, b.Cpu], 1);
        using var cg = TensorOps.Concat([a.Gpu, b.Gpu], 1);
        Twin.Same(cc, cg, (0, 0), "concat");
        using var sc = TensorOps.SliceCopy(cc, 1, 4, 3);
        using var sg = TensorOps.SliceCopy(cg, 1, 4, 3);
        Twin.Same(sc, sg, (0, 0), "slice copy");
        Twin.Dispose(a, b);
    }

    [Test]
    public void DropoutMaskIsBitIdenticalToCpu([Values(DType.Float32, DType.Float64)] DType dtype, [Values(0.0, 0.3, 0.9)] double p)
    {
        int n = 10_007;
        using var mc = Tensor.Zeros(Twin.Cpu, new Shape(n), dtype);
        using var mg = Tensor.Zeros(Twin.Gpu, new Shape(n), dtype);
        Twin.Cpu.Random.DropoutMask(987654321, p, mc);
        Twin.Gpu.Random.DropoutMask(987654321, p, mg);
        var c = mc.ToDoubleArray();
        var g = mg.ToDoubleArray();
        Assert.That(g, Is.EqualTo(c), "bit-identical masks");
        Assert.That(g.Count(v => v == 0) / (double)n, Is.EqualTo(p).Within(0.02));
    }

    [Test]
    public void UniformMatchesCpu([Values(DType.Float32, DType.Float64)] DType dtype)
    {
        using var uc = Tensor.Zeros(Twin.Cpu, new Shape(4099), dtype);
        using var ug = Tensor.Zeros(Twin.Gpu, new Shape(4099), dtype);
        Twin.Cpu.Random.Uniform(11, -2, 3, uc);
        Twin.Gpu.Random.Uniform(11, -2, 3, ug);
        Twin.Same(uc, ug, Twin.Elementwise(dtype), $"uniform {dtype}");
    }
}
