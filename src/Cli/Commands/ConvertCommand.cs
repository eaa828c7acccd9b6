using Hep.Cli.Options;
using Hep.RootIO;
using Hep.RootIO.Conversion;

namespace Hep.Cli.Commands;

/// <summary>
/// <c>hep convert &lt;npy folder&gt; &lt;output.root&gt;</c>: writes a padded .npy jet set (pf_vectors,
/// pf_mask, labels) as a JetClass-layout ROOT file (atomic: temp file renamed when complete).
/// </summary>
public static class ConvertCommand
{
    public static int Run(string[] args, TextWriter log)
    {
        if (args.Length != 2) throw new CliException("convert: usage: hep convert <npy folder> <output.root>");
        if (!Directory.Exists(args[0])) throw new CliException($"convert: folder '{args[0]}' does not exist");
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(args[1])) is { } folder) Directory.CreateDirectory(folder);
            var summary = JetNpyToRoot.Convert(args[0], args[1]);
            log.WriteLine($"convert: {summary.Jets} jets ({summary.Particles} particles, at most {summary.MaxParticlesPerJet} per jet; " +
                $"{string.Join(", ", summary.JetsPerLabel.Select(kv => $"{kv.Key} {kv.Value}"))}) → {summary.OutputFile} " +
                $"(tree '{summary.TreeName}', {summary.Branches.Count} branches, {summary.OutputBytes / 1e6:F1} MB)");
            return 0;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or RootFormatException)
        {
            throw new CliException($"convert: {e.Message.Split('\n')[0]}");
        }
    }
}
