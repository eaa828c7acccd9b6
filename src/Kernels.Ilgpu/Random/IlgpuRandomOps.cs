using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>Launchers for <see cref="RandomKernels"/> (float32, float64; contiguous destinations).</summary>
internal sealed class IlgpuRandomOps(IlgpuBackend backend) : IRandomOps
{
    public void DropoutMask(ulong seed, double p, Tensor mask)
    {
        backend.RequireFloat("DropoutMask", mask.DType);
        double keep = p >= 1 ? 0 : 1 / (1 - p);
        if (mask.DType == DType.Float32) Dropout<float, F32>(seed, p, keep, mask);
        else Dropout<double, F64>(seed, p, keep, mask);
    }

    public void Uniform(ulong seed, double low, double high, Tensor y)
    {
        backend.RequireFloat("Uniform", y.DType);
        if (y.DType == DType.Float32) UniformTyped<float, F32>(seed, low, high, y);
        else UniformTyped<double, F64>(seed, low, high, y);
    }

    private void Dropout<T, TS>(ulong seed, double p, double keep, Tensor mask)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        if (mask.Numel == 0) return;
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ulong, double, double>>(RandomKernels.DropoutMask<T, TS>);
        kernel(backend.Stream, (int)mask.Numel, IlgpuTensor.Dense<T>(mask, backend, "DropoutMask"), seed, p, keep);
    }

    private void UniformTyped<T, TS>(ulong seed, double low, double high, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        if (y.Numel == 0) return;
        var kernel = backend.Kernels.Implicit<Action<AcceleratorStream, Index1D, ArrayView<T>, ulong, double, double>>(RandomKernels.Uniform<T, TS>);
        kernel(backend.Stream, (int)y.Numel, IlgpuTensor.Dense<T>(y, backend, "Uniform"), seed, low, high);
    }
}
