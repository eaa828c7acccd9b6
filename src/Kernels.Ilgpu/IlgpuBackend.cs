using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// The ILGPU backend: one accelerator (CUDA, OpenCL or ILGPU's CPU simulator), one stream, kernels
/// compiled on first use and cached for the backend's lifetime. Every op of the engine contract runs
/// on the device; a case the device cannot run throws <see cref="BackendNotSupportedException"/> and
/// never falls back to the CPU. Host reads happen only in <see cref="IMemoryOps.Download{T}"/> and,
/// while <see cref="ValidateIndices"/> is on, in the one-int bounds report of the indexing ops.
/// </summary>
public sealed class IlgpuBackend : IBackend
{
    private readonly Context _context;
    private bool _disposed;

    private IlgpuBackend(IlgpuDeviceKind kind, int ordinal, ILGPU.Runtime.CPU.CPUDevice? simulated = null)
    {
        _context = IlgpuDevices.CreateContext(kind, algorithms: true, simulated);
        try
        {
            var devices = IlgpuDevices.Devices(_context, kind);
            if (ordinal < 0 || ordinal >= devices.Count)
                throw new IlgpuDeviceNotFoundException(kind, ordinal, IlgpuDevices.List(kind));
            var device = devices[ordinal];
            Accelerator = device.CreateAccelerator(_context);
            Kind = kind;
            Name = IlgpuDevices.BackendName(kind, ordinal);
            Device = new Hep.Engine.Device(kind switch
            {
                IlgpuDeviceKind.Cuda => DeviceKind.Cuda,
                IlgpuDeviceKind.OpenCL => DeviceKind.OpenCL,
                _ => DeviceKind.IlgpuCpu,
            }, ordinal, Accelerator.Name);
            SupportsFloat64 = Accelerator.Capabilities is not CLCapabilityContext cl || cl.Float64;
            Stream = Accelerator.DefaultStream;
            Kernels = new KernelCache(Accelerator);
            RowGroupSize = LaunchMath.RowGroupSize(Accelerator.MaxNumThreadsPerGroup);
            GemmThreadsPerSide = LaunchMath.GemmThreadsPerSide(Accelerator.MaxNumThreadsPerGroup);
        }
        catch
        {
            _context.Dispose();
            throw;
        }
        Memory = new IlgpuMemoryOps(this);
        Elementwise = new IlgpuElementwiseOps(this);
        Reduction = new IlgpuReductionOps(this);
        LinearAlgebra = new IlgpuLinearAlgebraOps(this);
        Norm = new IlgpuNormOps(this);
        Indexing = new IlgpuIndexingOps(this);
        Random = new IlgpuRandomOps(this);
        Graph = new IlgpuGraphOps(this);
        Attention = new IlgpuAttentionOps(this);
    }

    /// <summary>A backend on exactly the requested device; throws <see cref="IlgpuDeviceNotFoundException"/> if absent.</summary>
    public static IlgpuBackend Create(IlgpuDeviceKind kind, int ordinal = 0) => new(kind, ordinal);

    /// <summary>
    /// ILGPU's CPU accelerator simulating groups of <paramref name="threadsPerWarp"/> × <paramref name="warpsPerGroup"/>
    /// threads (tests use it to run the group kernels with larger groups than the default simulator).
    /// </summary>
    internal static IlgpuBackend CreateCpuSimulator(int threadsPerWarp, int warpsPerGroup) =>
        new(IlgpuDeviceKind.Cpu, 0, new ILGPU.Runtime.CPU.CPUDevice(threadsPerWarp, warpsPerGroup, 1));

    /// <summary>The first CUDA device, else the first OpenCL device, else ILGPU's CPU accelerator.</summary>
    public static IlgpuBackend CreateBest()
    {
        foreach (var kind in new[] { IlgpuDeviceKind.Cuda, IlgpuDeviceKind.OpenCL })
        {
            if (IlgpuDevices.List(kind).Count > 0) return Create(kind);
        }
        return Create(IlgpuDeviceKind.Cpu);
    }

    /// <summary>Parses "cuda", "cuda:1", "opencl", "opencl:0", "cpu" or "ilgpu-cpu" and creates that backend.</summary>
    public static IlgpuBackend Create(string device)
    {
        var spec = device.Trim().ToLowerInvariant();
        if (spec.StartsWith("ilgpu-", StringComparison.Ordinal)) spec = spec["ilgpu-".Length..];
        var parts = spec.Split(':');
        IlgpuDeviceKind kind = parts[0] switch
        {
            "cuda" => IlgpuDeviceKind.Cuda,
            "opencl" => IlgpuDeviceKind.OpenCL,
            "cpu" => IlgpuDeviceKind.Cpu,
            _ => throw new ArgumentException($"ilgpu: unknown device '{device}' (cuda[:N], opencl[:N] or cpu)"),
        };
        int ordinal = parts.Length > 1 && int.TryParse(parts[1], out var n) ? n : 0;
        return Create(kind, ordinal);
    }

    public string Name { get; }
    public Hep.Engine.Device Device { get; }
    public IlgpuDeviceKind Kind { get; }
    public IMemoryOps Memory { get; }
    public IElementwiseOps Elementwise { get; }
    public IReductionOps Reduction { get; }
    public ILinearAlgebraOps LinearAlgebra { get; }
    public INormOps Norm { get; }
    public IIndexingOps Indexing { get; }
    public IRandomOps Random { get; }
    public IGraphOps Graph { get; }
    public IAttentionOps Attention { get; }

    /// <summary>
    /// When true (default) the indexing ops read back a one-int bounds report after each launch and
    /// throw <see cref="ArgumentOutOfRangeException"/> naming the op, as the CPU backend does. When
    /// false there is no read-back: out-of-range elements are skipped (gathers write 0).
    /// </summary>
    public bool ValidateIndices { get; set; } = true;

    /// <summary>Number of kernels compiled so far by this backend.</summary>
    public int LoadedKernelCount => Kernels.Count;

    internal Accelerator Accelerator { get; }
    internal AcceleratorStream Stream { get; }
    internal KernelCache Kernels { get; }
    internal int RowGroupSize { get; }
    internal int GemmThreadsPerSide { get; }
    internal bool SupportsFloat64 { get; }

    public void Synchronize() => Stream.Synchronize();

    public bool Supports(DType dtype) => dtype != DType.Float64 || SupportsFloat64;

    /// <summary>Throws unless <paramref name="dtype"/> is a float dtype this device computes in.</summary>
    internal void RequireFloat(string op, DType dtype)
    {
        if (!dtype.IsFloating()) throw new BackendNotSupportedException(op, Name, $"dtype {dtype}");
        if (dtype == DType.Float64 && !SupportsFloat64) throw new BackendNotSupportedException(op, Name, "the device has no float64");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stream.Synchronize();
        Accelerator.Dispose();
        _context.Dispose();
    }

    public override string ToString() => $"{Name} ({Accelerator.Name})";
}
