namespace Hep.Ilgpu.Tests;

/// <summary>Every kernel must also compile for CUDA (PTX, sm_90) — checked without a GPU or driver.</summary>
public class PtxCodegenTests
{
    [Test]
    public void EveryKernelCompilesToPtxForSm90()
    {
        var results = KernelCatalog.CompilePtx(9, 0);
        foreach (var r in results) TestContext.Out.WriteLine($"{r.Kernel,-60} {(r.Ok ? $"{r.PtxLength} chars of PTX" : r.Error)}");
        Assert.That(results.Count, Is.GreaterThanOrEqualTo(40), "catalog lists every kernel instantiation");
        var failed = results.Where(r => !r.Ok).Select(r => $"{r.Kernel}: {r.Error}").ToList();
        Assert.That(failed, Is.Empty);
        Assert.That(results.All(r => r.PtxLength > 200), Is.True, "each kernel produced PTX text");
    }

    [Test]
    public void CatalogCoversEveryKernelFamilyAndDtype()
    {
        var names = KernelCatalog.All().Select(e => e.Name).ToList();
        foreach (var family in new[] { "MemoryKernels.Copy", "MemoryKernels.Cast", "MemoryKernels.Fill", "UnaryKernels.Forward", "UnaryKernels.Backward",
                     "BinaryKernels.Binary", "BinaryKernels.Where", "ReductionKernels.ReduceRows", "ReductionKernels.ReduceColumns", "ReductionKernels.ArgMax",
                     "GemmKernels.Gemm", "SoftmaxKernels.Forward", "SoftmaxKernels.Backward", "SoftmaxKernels.ForwardPerThread", "SoftmaxKernels.BackwardPerThread",
                     "LayerNormKernels.Forward", "LayerNormKernels.Backward", "LayerNormKernels.ForwardPerThread", "LayerNormKernels.BackwardPerThread",
                     "LayerNormKernels.ParamGrad", "BatchNormKernels.Moments", "BatchNormKernels.Affine", "BatchNormKernels.Backward",
                     "BatchNormKernels.AffineRelu", "BatchNormKernels.ReluBackward", "BatchNormKernels.MomentsAffineRelu",
                     "IndexingKernels.IndexSelect", "IndexingKernels.IndexAdd", "IndexingKernels.Gather", "IndexingKernels.ScatterAdd",
                     "RandomKernels.DropoutMask", "RandomKernels.Uniform",
                     "KnnKernels.Select", "KnnKernels.PaddedQueries", "EdgeGatherKernels.GatherNeighbors", "EdgeGatherKernels.GatherNeighborsBackward",
                     "EdgeGatherKernels.EdgeFeatures", "EdgeGatherKernels.EdgeFeaturesBackward", "EdgeGatherKernels.NeighborCombine",
                     "EdgeGatherKernels.NeighborCombineBackward", "SegmentReduceKernels.SumSegments", "SegmentReduceKernels.AtomicScatter",
                     "SegmentReduceKernels.DivideByCounts", "SegmentReduceKernels.WriteCounts", "SegmentReduceKernels.CountsFromOffsets", "SegmentReduceKernels.Gather",
                     "MaskedSoftmaxKernels.Forward", "MaskedSoftmaxKernels.ForwardPerThread", "FlashAttentionKernels.Forward",
                     "FlashAttentionKernels.Delta", "FlashAttentionKernels.BackwardQuery", "FlashAttentionKernels.BackwardKey" })
        {
            Assert.That(names.Any(n => n.StartsWith(family + "<", StringComparison.Ordinal) && n.Contains("Single", StringComparison.Ordinal)), Is.True, $"{family} float32");
            Assert.That(names.Any(n => n.StartsWith(family + "<", StringComparison.Ordinal) && n.Contains("Double", StringComparison.Ordinal)), Is.True, $"{family} float64");
        }
        foreach (var csr in new[] { "CsrKernels.Count", "CsrKernels.ExclusiveScan", "CsrKernels.Fill", "CsrKernels.SortSegments" })
            Assert.That(names, Does.Contain(csr), "index-only CSR kernel");
        Assert.That(names, Is.Unique);
    }

    [Test]
    public void EveryPublicMethodOfAKernelClassIsACatalogedKernel()
    {
        // A kernel added without [KernelEntry] would escape the PTX check; kernel classes keep helpers private.
        var assembly = typeof(KernelCatalog).Assembly;
        var kernelClasses = assembly.GetTypes().Where(t => t.Name.EndsWith("Kernels", StringComparison.Ordinal) && t.IsAbstract && t.IsSealed).ToList();
        Assert.That(kernelClasses, Has.Count.GreaterThanOrEqualTo(10));
        var cataloged = KernelCatalog.All().Select(e => e.Method.IsGenericMethod ? e.Method.GetGenericMethodDefinition() : e.Method).ToHashSet();
        foreach (var type in kernelClasses)
        {
            foreach (var m in type.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly))
                Assert.That(cataloged, Does.Contain(m), $"{type.Name}.{m.Name} is public but not a cataloged [KernelEntry] kernel");
        }
    }
}
