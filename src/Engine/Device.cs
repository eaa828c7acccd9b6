namespace Hep.Engine;

/// <summary>Kind of compute device a backend runs on.</summary>
public enum DeviceKind
{
    /// <summary>Host CPU through the SIMD backend.</summary>
    Cpu,
    /// <summary>ILGPU's CPU accelerator (a kernel simulator for tests, never the CPU path).</summary>
    IlgpuCpu,
    Cuda,
    OpenCL,
}

/// <summary>A concrete device: kind, ordinal among devices of that kind, and a human-readable name.</summary>
public sealed record Device(DeviceKind Kind, int Ordinal, string Name)
{
    public override string ToString() => $"{Kind}:{Ordinal} ({Name})";
}
