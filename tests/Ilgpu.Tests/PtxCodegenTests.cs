namespace Hep.Ilgpu.Tests;

/// <summary>Every kernel must also compile for CUDA (PTX, sm_90) — checked without a GPU or driver.</summary>
public class PtxCodegenTests
{
    [Test]
    public void EveryKernelCompilesToPtxForSm90()
    {
        var results = KernelCatalog.CompilePtx(9, 0);
        Assert.That(results.Count, Is.GreaterThanOrEqualTo(40), "catalog lists every kernel instantiation");
        var failed = results.Where(r => !r.Ok).Select(r => $"{r.Kernel}: {r.Error}").ToList();
        Assert.That(failed, Is.Empty);
        Assert.That(results.All(r => r.PtxLength > 200), Is.True, "each kernel produced PTX text");
    }
}
