using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Counter-based random fills (<see cref="CounterRng"/>): element i depends only on (seed, i), so
/// the result is independent of threading and identical to the ILGPU kernels.
/// </summary>
internal sealed class CpuRandomOps : IRandomOps
{
    public void DropoutMask(ulong seed, double p, Tensor mask)
    {
        double keep = p >= 1 ? 0 : 1 / (1 - p);
        Fill(mask, "DropoutMask", i => CounterRng.Uniform(seed, i) >= p ? keep : 0);
    }

    public void Uniform(ulong seed, double low, double high, Tensor y) =>
        Fill(y, "Uniform", i => low + (high - low) * CounterRng.Uniform(seed, i));

    private static void Fill(Tensor t, string op, Func<long, double> value)
    {
        int offset = t.Offset;
        switch (t.DType)
        {
            case DType.Float32:
                var f = CpuTensor.Span<float>(t, op).Length > 0 ? CpuTensor.Array<float>(t, op) : [];
                CpuParallel.For((int)t.Numel, 16, (s, e) => { for (int i = s; i < e; i++) f[offset + i] = (float)value(i); });
                break;
            case DType.Float64:
                var d = CpuTensor.Span<double>(t, op).Length > 0 ? CpuTensor.Array<double>(t, op) : [];
                CpuParallel.For((int)t.Numel, 16, (s, e) => { for (int i = s; i < e; i++) d[offset + i] = value(i); });
                break;
            default:
                throw new BackendNotSupportedException(op, "cpu", $"dtype {t.DType}");
        }
    }
}
