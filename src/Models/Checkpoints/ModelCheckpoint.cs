using System.Globalization;
using Hep.Models.Nn;
using Hep.Models.Optim;

namespace Hep.Models.Checkpoints;

/// <summary>What a checkpoint records besides the tensors.</summary>
public sealed record CheckpointInfo(int Version, int Epoch, string Config, string? OptimizerType, long OptimizerSteps, double? LearningRate,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Our own training checkpoint: a safetensors container whose tensors are the model's parameters and
/// buffers ("model.&lt;name&gt;") and the optimiser state ("optimizer.&lt;parameter&gt;.&lt;slot&gt;"), and whose
/// metadata holds the format name and version, epoch, model configuration (free text, e.g. JSON),
/// optimiser type, step count and learning rate. Files are written to a temporary file in the same
/// folder, flushed and renamed over the target, so a crash never leaves a half-written checkpoint.
/// </summary>
public static class ModelCheckpoint
{
    public const string FormatName = "hep-models-checkpoint";
    public const int CurrentVersion = 1;

    public static void Save(string path, Module model, int epoch, string config, Optimizer? optimizer = null,
        IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var tensors = StateDictLoader.Export(model, name => "model." + name);
        var metadata = new Dictionary<string, string>(extraMetadata ?? new Dictionary<string, string>())
        {
            ["format"] = FormatName,
            ["version"] = CurrentVersion.ToString(CultureInfo.InvariantCulture),
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["config"] = config,
        };
        if (optimizer is not null)
        {
            metadata["optimizer.type"] = optimizer.GetType().Name;
            metadata["optimizer.steps"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture);
            metadata["optimizer.lr"] = optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture);
            metadata["optimizer.parameters"] = optimizer.Parameters.Count.ToString(CultureInfo.InvariantCulture);
            foreach (var (index, state) in OptimizerStateAccess.Export(optimizer))
                for (int slot = 0; slot < state.Length; slot++) tensors.Add(new($"optimizer.{index}.{slot}", HostTensor.FromTensor(state[slot])));
        }
        WriteAtomically(path, SafeTensors.Serialize(tensors, metadata));
    }

    /// <summary>Loads weights (and optimiser state when both file and <paramref name="optimizer"/> have it) into existing objects.</summary>
    public static CheckpointInfo Load(string path, Module model, Optimizer? optimizer = null)
    {
        var contents = SafeTensors.Read(path);
        var info = ReadInfo(contents, path);
        StateDictLoader.Load(model, contents.Tensors.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)), key => key["model.".Length..]);
        if (optimizer is not null)
        {
            if (info.OptimizerType is null) throw new CheckpointFormatException($"{path}: the checkpoint holds no optimiser state");
            if (info.OptimizerType != optimizer.GetType().Name)
                throw new CheckpointFormatException($"{path}: optimiser state of a {info.OptimizerType}, cannot load into a {optimizer.GetType().Name}");
            int count = int.Parse(info.Metadata["optimizer.parameters"], CultureInfo.InvariantCulture);
            if (count != optimizer.Parameters.Count)
                throw new CheckpointFormatException($"{path}: optimiser state for {count} parameters, optimiser has {optimizer.Parameters.Count}");
            using var scope = TensorScope.Begin();
            var state = new Dictionary<int, List<(int Slot, Tensor Value)>>();
            foreach (var (key, value) in contents.Tensors.Where(kv => kv.Key.StartsWith("optimizer.", StringComparison.Ordinal)))
            {
                var parts = key.Split('.');
                if (parts.Length != 3 || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int p) || !int.TryParse(parts[2], CultureInfo.InvariantCulture, out int slot))
                    throw new CheckpointFormatException($"{path}: malformed optimiser key '{key}'");
                if (p < 0 || p >= count) throw new CheckpointFormatException($"{path}: optimiser key '{key}' names parameter {p} of {count}");
                var target = optimizer.Parameters[p].Data;
                if (!state.TryGetValue(p, out var list)) state[p] = list = [];
                list.Add((slot, value.ToTensor(target.Backend, target.DType)));
            }
            var ordered = state.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(s => s.Slot).Select(s => s.Value).ToArray());
            OptimizerStateAccess.Import(optimizer, ordered, info.OptimizerSteps);
            if (info.LearningRate is double lr) optimizer.LearningRate = lr;
        }
        return info;
    }

    /// <summary>Reads only the metadata (format, version, epoch, config, optimiser summary).</summary>
    public static CheckpointInfo Inspect(string path) => ReadInfo(SafeTensors.Read(path), path);

    private static CheckpointInfo ReadInfo(SafeTensors.Contents contents, string path)
    {
        var m = contents.Metadata;
        if (!m.TryGetValue("format", out var format) || format != FormatName)
            throw new CheckpointFormatException($"{path}: not a {FormatName} file (format '{format ?? "none"}')");
        if (!int.TryParse(m.GetValueOrDefault("version"), CultureInfo.InvariantCulture, out int version))
            throw new CheckpointFormatException($"{path}: missing or malformed format version");
        if (version > CurrentVersion)
            throw new CheckpointFormatException($"{path}: checkpoint format version {version} is newer than this reader ({CurrentVersion})");
        int epoch = int.Parse(m.GetValueOrDefault("epoch", "0"), CultureInfo.InvariantCulture);
        long steps = long.Parse(m.GetValueOrDefault("optimizer.steps", "0"), CultureInfo.InvariantCulture);
        double? lr = m.TryGetValue("optimizer.lr", out var l) ? double.Parse(l, CultureInfo.InvariantCulture) : null;
        return new CheckpointInfo(version, epoch, m.GetValueOrDefault("config", ""), m.GetValueOrDefault("optimizer.type"), steps, lr, m);
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            if (File.Exists(temp)) File.Delete(temp);
            throw;
        }
    }
}
