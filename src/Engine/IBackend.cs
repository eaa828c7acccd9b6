using Hep.Engine.Ops;

namespace Hep.Engine;

/// <summary>
/// A compute backend: one device, one stream, and small op-family interfaces. Implemented by the
/// CPU-SIMD backend and the ILGPU backend; Autograd and Models only ever talk to this contract.
/// Kernel methods take preallocated destinations (inputs first, destination last); allocation and
/// shape/device validation happen once in <see cref="TensorOps"/>.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Short name used in messages and <see cref="Diagnostics.LiveBufferStats"/> (e.g. "cpu", "ilgpu-cuda:0").</summary>
    string Name { get; }
    Device Device { get; }

    IMemoryOps Memory { get; }
    IElementwiseOps Elementwise { get; }
    IReductionOps Reduction { get; }
    ILinearAlgebraOps LinearAlgebra { get; }
    INormOps Norm { get; }
    IIndexingOps Indexing { get; }
    IRandomOps Random { get; }

    /// <summary>
    /// Graph kernels (kNN, EdgeConv gathers, scatter/segment reductions). The default, for a backend
    /// that has none yet, throws <see cref="BackendNotSupportedException"/> naming the op on every call.
    /// </summary>
    IGraphOps Graph => new UnsupportedGraphOps(Name);

    /// <summary>
    /// Masked softmax and fused attention kernels. The default, for a backend that has none yet,
    /// throws <see cref="BackendNotSupportedException"/> naming the op on every call.
    /// </summary>
    IAttentionOps Attention => new UnsupportedAttentionOps(Name);

    /// <summary>Waits until all queued work on the backend's stream has finished.</summary>
    void Synchronize();

    /// <summary>True when the backend can hold and compute this dtype (the ILGPU backend may omit Float64).</summary>
    bool Supports(DType dtype);
}
