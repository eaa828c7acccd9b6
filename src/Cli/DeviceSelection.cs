using Hep.Cli.Options;
using Hep.Engine;
using Hep.Kernels.Cpu;
using Hep.Kernels.Ilgpu;

namespace Hep.Cli;

/// <summary>
/// Picks the backend from --device (cpu | cuda[:N] | opencl[:N] | ilgpu-cpu) and the users' --gpu N
/// (= cuda:N). The choice is explicit and printed; a device that is not present is an error, never a
/// silent fallback to the CPU.
/// </summary>
public static class DeviceSelection
{
    public static IBackend Select(ParsedFlags flags)
    {
        string device = flags.String("device")!;
        if (flags.OptionalInt("gpu") is { } gpu)
        {
            if (flags.Has("device") && !device.StartsWith("cuda", StringComparison.Ordinal))
                throw new CliException($"flags --gpu {gpu} and --device {device} contradict each other");
            device = $"cuda:{gpu}";
        }
        if (device == "cpu") return CpuBackend.Shared;
        try
        {
            return IlgpuBackend.Create(device);
        }
        catch (Exception e) when (e is IlgpuDeviceNotFoundException or ArgumentException)
        {
            string flag = flags.Has("gpu") ? "--gpu" : "--device";
            throw new CliException($"flag {flag}: {e.Message.Split('\n')[0]}");
        }
    }
}
