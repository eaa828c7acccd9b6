using Hep.Engine;
using Hep.Engine.Ops;
using Hep.Kernels.Cpu.Attention;
using Hep.Kernels.Cpu.Graph;

namespace Hep.Kernels.Cpu;

/// <summary>
/// The CPU backend: SIMD kernels on System.Numerics.Tensors / Vector512, multi-threaded over
/// <see cref="CpuParallel"/>. Runs float32 (training) and float64 (gradient checks) for every op.
/// Work is synchronous, so <see cref="Synchronize"/> is a no-op.
/// </summary>
public sealed class CpuBackend : IBackend
{
    /// <summary>A process-wide instance (the backend holds no per-instance device state).</summary>
    public static CpuBackend Shared { get; } = new();

    public CpuBackend()
    {
        Memory = new CpuMemoryOps(this);
        Elementwise = new CpuElementwiseOps();
        Reduction = new CpuReductionOps();
        LinearAlgebra = new CpuLinearAlgebraOps();
        Norm = new CpuNormOps();
        Indexing = new CpuIndexingOps();
        Random = new CpuRandomOps();
        Graph = new CpuGraphOps();
        Attention = new CpuAttentionOps();
    }

    public string Name => "cpu";
    public Device Device { get; } = new(DeviceKind.Cpu, 0, $"{Environment.ProcessorCount}-thread host CPU");
    public IMemoryOps Memory { get; }
    public IElementwiseOps Elementwise { get; }
    public IReductionOps Reduction { get; }
    public ILinearAlgebraOps LinearAlgebra { get; }
    public INormOps Norm { get; }
    public IIndexingOps Indexing { get; }
    public IRandomOps Random { get; }
    public IGraphOps Graph { get; }
    public IAttentionOps Attention { get; }

    public void Synchronize()
    {
    }

    public bool Supports(DType dtype) => true;

    public void Dispose()
    {
    }

    public override string ToString() => $"cpu ({Device.Name})";
}
