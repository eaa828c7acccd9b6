using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Hep.Kernels.Ilgpu;

/// <summary>Which ILGPU accelerator family a backend runs on.</summary>
public enum IlgpuDeviceKind
{
    /// <summary>NVIDIA GPUs through the CUDA driver (PTX kernels).</summary>
    Cuda,
    /// <summary>OpenCL 2.0 devices with the generic address space (AMD and Intel GPUs).</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: a slow kernel simulator for tests, never the CPU path.</summary>
    Cpu,
}

/// <summary>One device ILGPU can see: kind, ordinal among devices of that kind, name and memory.</summary>
public sealed record IlgpuDeviceInfo(IlgpuDeviceKind Kind, int Ordinal, string Name, long MemoryBytes)
{
    /// <summary>The backend name a backend on this device reports ("ilgpu-cuda:0", "ilgpu-cpu").</summary>
    public string BackendName => IlgpuDevices.BackendName(Kind, Ordinal);

    public override string ToString() => $"{BackendName} ({Name}, {MemoryBytes / (1024 * 1024)} MiB)";
}

/// <summary>A requested ILGPU device is not present. Never answered by a silent fallback.</summary>
public sealed class IlgpuDeviceNotFoundException(IlgpuDeviceKind kind, int ordinal, IReadOnlyList<IlgpuDeviceInfo> available)
    : InvalidOperationException(
        $"ilgpu: no {kind} device with ordinal {ordinal}; available: " +
        (available.Count == 0 ? "none" : string.Join(", ", available.Select(d => d.ToString()))))
{
    public IlgpuDeviceKind Kind { get; } = kind;
    public int Ordinal { get; } = ordinal;
}

/// <summary>Device discovery and the ILGPU contexts behind <see cref="IlgpuBackend"/>.</summary>
public static class IlgpuDevices
{
    /// <summary>
    /// The CPU accelerator's simulated device: warps of 2, 2 warps per group (4 threads per group).
    /// The simulator runs every group thread as an OS thread, so launch and barrier cost grows with
    /// the group size (16-thread groups made the engine suites ~5× slower on a 2-core CI machine).
    /// The kernels are written for any power-of-two group size, run with 256-thread groups on GPUs,
    /// and a test also runs the self-check with 16-thread groups (<see cref="IlgpuBackend.CreateCpuSimulator"/>).
    /// </summary>
    internal static CPUDevice SimulatedCpu { get; } = new(numThreadsPerWarp: 2, numWarpsPerMultiprocessor: 2, numMultiprocessors: 1);

    /// <summary>Every device ILGPU can see on this machine, CUDA first, then OpenCL, then the CPU accelerator.</summary>
    public static IReadOnlyList<IlgpuDeviceInfo> List()
    {
        var result = new List<IlgpuDeviceInfo>();
        foreach (var kind in new[] { IlgpuDeviceKind.Cuda, IlgpuDeviceKind.OpenCL, IlgpuDeviceKind.Cpu })
            result.AddRange(List(kind));
        return result;
    }

    /// <summary>Devices of one kind (empty when the driver or runtime is absent).</summary>
    public static IReadOnlyList<IlgpuDeviceInfo> List(IlgpuDeviceKind kind)
    {
        try
        {
            using var context = CreateContext(kind, algorithms: false);
            return Devices(context, kind).Select((d, i) => new IlgpuDeviceInfo(kind, i, d.Name, d.MemorySize)).ToList();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or InvalidOperationException)
        {
            return [];
        }
    }

    internal static string BackendName(IlgpuDeviceKind kind, int ordinal) => kind switch
    {
        IlgpuDeviceKind.Cpu => "ilgpu-cpu",
        IlgpuDeviceKind.Cuda => $"ilgpu-cuda:{ordinal}",
        _ => $"ilgpu-opencl:{ordinal}",
    };

    internal static Context CreateContext(IlgpuDeviceKind kind, bool algorithms, CPUDevice? simulated = null)
    {
        return Context.Create(builder =>
        {
            switch (kind)
            {
                case IlgpuDeviceKind.Cuda: builder.Cuda(); break;
                case IlgpuDeviceKind.OpenCL: builder.OpenCL(); break;
                default: builder.CPU(simulated ?? SimulatedCpu); break;
            }
            builder.Optimize(OptimizationLevel.O1);
            // Software implementations of double-precision math (exp, log, tanh, pow) for GPU backends.
            if (algorithms) builder.EnableAlgorithms();
        });
    }

    internal static IReadOnlyList<ILGPU.Runtime.Device> Devices(Context context, IlgpuDeviceKind kind)
    {
        var result = new List<ILGPU.Runtime.Device>();
        switch (kind)
        {
            case IlgpuDeviceKind.Cuda: foreach (var d in context.GetCudaDevices()) result.Add(d); break;
            case IlgpuDeviceKind.OpenCL: foreach (var d in context.GetCLDevices()) result.Add(d); break;
            default: foreach (var d in context.GetCPUDevices()) result.Add(d); break;
        }
        return result;
    }
}
