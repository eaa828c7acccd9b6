using System.Buffers.Binary;
using System.IO.Compression;
using Hep.Models.Checkpoints.Pickle;

namespace Hep.Models.Checkpoints;

/// <summary>
/// Reads PyTorch zip checkpoints (torch.save since 1.6) without Python: &lt;root&gt;/data.pkl is parsed
/// by a <see cref="RestrictedUnpickler"/> and each tensor is assembled from its raw little-endian storage
/// &lt;root&gt;/data/&lt;key&gt; (offset, size, stride honoured). Accepts a state dict, or a dict holding one
/// under "state_dict" / "model_state_dict" / "model"; returns the tensors in file order.
/// </summary>
public static class TorchCheckpoint
{
    private static readonly string[] NestedKeys = ["state_dict", "model_state_dict", "model"];

    public static List<KeyValuePair<string, HostTensor>> Read(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            return Read(zip, path);
        }
        catch (InvalidDataException ex)
        {
            throw new CheckpointFormatException($"{path}: not a PyTorch zip checkpoint: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new CheckpointFormatException($"{path}: cannot read: {ex.Message}", ex);
        }
    }

    private static List<KeyValuePair<string, HostTensor>> Read(ZipArchive zip, string path)
    {
        var pickles = zip.Entries.Where(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
        if (pickles.Count != 1) throw new CheckpointFormatException($"{path}: expected one data.pkl in the archive, found {pickles.Count}");
        string root = pickles[0].FullName[..^"data.pkl".Length];
        var order = zip.GetEntry(root + "byteorder");
        if (order is not null && ReadAll(order).AsSpan().SequenceEqual("big"u8))
            throw new CheckpointFormatException($"{path}: big-endian checkpoints are not supported");
        var state = FindStateDict(RestrictedUnpickler.Load(ReadAll(pickles[0]), path + ":" + pickles[0].FullName), path);
        var storages = new Dictionary<string, byte[]>();
        var result = new List<KeyValuePair<string, HostTensor>>();
        foreach (var (key, value) in state.Items)
        {
            if (key is not string name) throw new CheckpointFormatException($"{path}: state-dict key {key} is not a string");
            if (value is not TensorReference t) throw new CheckpointFormatException($"{path}: '{name}' is not a tensor");
            if (!storages.TryGetValue(t.Storage.Key, out var bytes))
            {
                var entry = zip.GetEntry(root + "data/" + t.Storage.Key)
                    ?? throw new CheckpointFormatException($"{path}: storage '{t.Storage.Key}' of '{name}' is missing");
                bytes = ReadAll(entry);
                if (bytes.LongLength < t.Storage.Numel * t.Storage.ElementBytes)
                    throw new CheckpointFormatException($"{path}: storage '{t.Storage.Key}' holds {bytes.Length} bytes, {t.Storage.Numel} elements declared");
                storages[t.Storage.Key] = bytes;
            }
            result.Add(new(name, Assemble(t, bytes, name, path)));
        }
        return result;
    }

    private static PickleDict FindStateDict(object? root, string path)
    {
        if (root is PickleDict dict)
        {
            if (dict.Items.Count == 0 || dict.Items.Any(kv => kv.Value is TensorReference)) return dict;
            foreach (var key in NestedKeys)
            {
                var nested = dict.Items.FirstOrDefault(kv => Equals(kv.Key, key)).Value;
                if (nested is PickleDict inner && inner.Items.Any(kv => kv.Value is TensorReference)) return inner;
            }
        }
        throw new CheckpointFormatException($"{path}: no state dict (a dict of tensors) found at the top level or under {string.Join("/", NestedKeys)}");
    }

    private static HostTensor Assemble(TensorReference t, byte[] bytes, string name, string path)
    {
        long numel = 1;
        long last = t.Offset;
        for (int i = 0; i < t.Size.Length; i++)
        {
            if (t.Size[i] < 0 || t.Stride[i] < 0) throw new CheckpointFormatException($"{path}: '{name}' has a negative size or stride");
            numel *= t.Size[i];
            if (t.Size[i] > 0) last += (t.Size[i] - 1) * t.Stride[i];
        }
        if (t.Offset < 0 || (numel > 0 && last >= t.Storage.Numel))
            throw new CheckpointFormatException($"{path}: '{name}' reaches element {last} of a {t.Storage.Numel}-element storage");
        // Element offsets of the view in row-major order.
        var offsets = new long[numel];
        var index = new int[t.Size.Length];
        for (long n = 0; n < numel; n++)
        {
            long at = t.Offset;
            for (int d = 0; d < index.Length; d++) at += index[d] * t.Stride[d];
            offsets[n] = at;
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Size[d]) break;
                index[d] = 0;
            }
        }
        var s = t.Storage;
        Array data = s.DType switch
        {
            HostDType.Float32 when s.IsHalf => offsets.Select(o => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan((int)(o * 2)))).ToArray(),
            HostDType.Float32 when s.IsBFloat16 => offsets.Select(o => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)(o * 2))) << 16)).ToArray(),
            HostDType.Float32 => offsets.Select(o => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(o * 4)))).ToArray(),
            HostDType.Float64 => offsets.Select(o => BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan((int)(o * 8)))).ToArray(),
            HostDType.Int64 => offsets.Select(o => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)(o * 8)))).ToArray(),
            _ => offsets.Select(o => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)(o * 4)))).ToArray(),
        };
        return new HostTensor(s.DType, t.Size, data);
    }

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
