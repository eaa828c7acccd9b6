using Hep.Cli.Options;
using Hep.Kernels.Ilgpu;

namespace Hep.Cli.Commands;

/// <summary>
/// <c>hep selfcheck [--device cuda|opencl|ilgpu-cpu] [--gpu N]</c>: runs every ILGPU kernel on the chosen
/// device against host float64 references (for machines without .NET test tooling, e.g. a GPU node).
/// Exit code 0 only when every comparison passes.
/// </summary>
public static class SelfCheckCommand
{
    public static int Run(string[] args, TextWriter log)
    {
        var flags = ParsedFlags.Parse(args);
        if (!flags.Has("device") && !flags.Has("gpu")) args = [.. args, "--device", "ilgpu-cpu"];
        flags = ParsedFlags.Parse(args);
        if (DeviceSelection.Select(flags) is not IlgpuBackend backend)
            throw new CliException("flag --device: selfcheck compares an ILGPU device (cuda, opencl, ilgpu-cpu) with the CPU backend");
        using (backend)
        {
            log.WriteLine($"selfcheck on {backend.Name} ({backend.Device})");
            var result = SelfCheck.Run(backend, log);
            log.WriteLine($"selfcheck: {result.Passed} passed, {result.Failed} failed");
            return result.Ok ? 0 : 1;
        }
    }
}
