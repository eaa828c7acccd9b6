using Hep.Cli.Options;
using Hep.Models.Checkpoints;
using Hep.Models.Nn;

namespace Hep.Cli.Training;

/// <summary>
/// --load_model: our own checkpoints (.ckpt, safetensors-based) or released weaver PyTorch checkpoints
/// (.pt / .pth zip, weaver parameter names). A checkpoint that does not fit the architecture is a
/// one-line error naming the missing, unexpected or mis-shaped keys.
/// </summary>
public static class CheckpointLoading
{
    public static void Load(string path, Module model, TextWriter log)
    {
        try
        {
            if (path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase))
            {
                StateDictLoader.LoadWeaver(model, TorchCheckpoint.Read(path));
                log.WriteLine($"loaded weaver checkpoint {path}");
            }
            else
            {
                var info = ModelCheckpoint.Load(path, model);
                log.WriteLine($"loaded checkpoint {path} (epoch {info.Epoch})");
            }
        }
        catch (Exception e) when (e is CheckpointFormatException or CheckpointMismatchException or InvalidDataException or IOException)
        {
            throw new CliException($"flag --load_model: {path}: {e.Message.Split('\n')[0]}");
        }
    }
}
