using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hep.Models.Checkpoints;

/// <summary>
/// The safetensors container: an 8-byte little-endian header length n, n bytes of JSON
/// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}, then the
/// raw little-endian row-major data (offsets relative to its start). Reads F32, F64, I32, I64 and
/// widens F16/BF16 to float32; every offset, size and shape is validated before use.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>A parsed file: tensors in header order and the free-form metadata.</summary>
    public sealed record Contents(IReadOnlyList<KeyValuePair<string, HostTensor>> Tensors, IReadOnlyDictionary<string, string> Metadata)
    {
        public Dictionary<string, HostTensor> ToDictionary() => Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    public static Contents Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException($"{path}: cannot read: {ex.Message}", ex);
        }
        return Parse(bytes, path);
    }

    public static Contents Parse(ReadOnlySpan<byte> bytes, string source = "safetensors")
    {
        if (bytes.Length < 8) throw new CheckpointFormatException($"{source}: too short for a safetensors header");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > (ulong)MaxHeaderBytes || (long)n > bytes.Length - 8)
            throw new CheckpointFormatException($"{source}: header length {n} exceeds the file ({bytes.Length} bytes)");
        var data = bytes[(8 + (int)n)..];
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes.Slice(8, (int)n))) as JsonObject
                ?? throw new CheckpointFormatException($"{source}: header is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException($"{source}: header is not valid JSON: {ex.Message}", ex);
        }
        var metadata = new Dictionary<string, string>();
        var tensors = new List<KeyValuePair<string, HostTensor>>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw new CheckpointFormatException($"{source}: __metadata__ must be an object");
                foreach (var (k, v) in meta) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            tensors.Add(new(name, ReadEntry(source, name, node, data)));
        }
        return new Contents(tensors, metadata);
    }

    private static HostTensor ReadEntry(string source, string name, JsonNode? node, ReadOnlySpan<byte> data)
    {
        string where = $"{source}: tensor '{name}'";
        try
        {
            string dtype = node?["dtype"]?.GetValue<string>() ?? throw new CheckpointFormatException($"{where}: no dtype");
            var shapeNode = node["shape"] as JsonArray ?? throw new CheckpointFormatException($"{where}: no shape");
            var offsets = node["data_offsets"] as JsonArray ?? throw new CheckpointFormatException($"{where}: no data_offsets");
            var shape = shapeNode.Select(d => d!.GetValue<int>()).ToArray();
            if (shape.Any(d => d < 0)) throw new CheckpointFormatException($"{where}: negative dimension");
            long numel = shape.Aggregate(1L, (a, d) => a * d);
            if (offsets.Count != 2) throw new CheckpointFormatException($"{where}: data_offsets must be [begin, end]");
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            if (begin < 0 || end < begin || end > data.Length)
                throw new CheckpointFormatException($"{where}: data_offsets [{begin}, {end}] outside the {data.Length}-byte data section");
            int size = ElementSize(dtype) ?? throw new CheckpointFormatException($"{where}: unsupported dtype {dtype}");
            if (end - begin != numel * size)
                throw new CheckpointFormatException($"{where}: {end - begin} bytes for {dtype} shape [{string.Join(", ", shape)}] ({numel * size} expected)");
            return Decode(dtype, shape, data.Slice((int)begin, (int)(end - begin)));
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new CheckpointFormatException($"{where}: malformed header entry: {ex.Message}", ex);
        }
    }

    private static int? ElementSize(string dtype) => dtype switch
    {
        "F32" or "I32" => 4,
        "F64" or "I64" => 8,
        "F16" or "BF16" => 2,
        _ => null,
    };

    private static HostTensor Decode(string dtype, int[] shape, ReadOnlySpan<byte> raw)
    {
        int count = raw.Length / ElementSize(dtype)!.Value;
        switch (dtype)
        {
            case "F32":
            {
                var v = new float[count];
                for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                return new HostTensor(HostDType.Float32, shape, v);
            }
            case "F64":
            {
                var v = new double[count];
                for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                return new HostTensor(HostDType.Float64, shape, v);
            }
            case "I32":
            {
                var v = new int[count];
                for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]);
                return new HostTensor(HostDType.Int32, shape, v);
            }
            case "I64":
            {
                var v = new long[count];
                for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]);
                return new HostTensor(HostDType.Int64, shape, v);
            }
            case "F16":
            {
                var v = new float[count];
                for (int i = 0; i < count; i++) v[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]);
                return new HostTensor(HostDType.Float32, shape, v);
            }
            default:
            {
                var v = new float[count];
                for (int i = 0; i < count; i++) v[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16);
                return new HostTensor(HostDType.Float32, shape, v);
            }
        }
    }

    /// <summary>Serialises tensors (in the given order) and metadata to the safetensors layout.</summary>
    public static byte[] Serialize(IEnumerable<KeyValuePair<string, HostTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            if (name == "__metadata__") throw new ArgumentException("safetensors: '__metadata__' is reserved");
            var blob = Encode(t);
            header[name] = new JsonObject
            {
                ["dtype"] = t.DType switch { HostDType.Float32 => "F32", HostDType.Float64 => "F64", HostDType.Int32 => "I32", _ => "I64" },
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + blob.Length),
            };
            blobs.Add(blob);
            offset += blob.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8;
        var result = new byte[8 + json.Length + pad + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)(json.Length + pad));
        json.CopyTo(result, 8);
        for (int i = 0; i < pad; i++) result[8 + json.Length + i] = (byte)' ';
        long at = 8 + json.Length + pad;
        foreach (var b in blobs)
        {
            b.CopyTo(result, at);
            at += b.Length;
        }
        return result;
    }

    private static byte[] Encode(HostTensor t)
    {
        switch (t.Data)
        {
            case float[] f:
            {
                var b = new byte[f.Length * 4];
                for (int i = 0; i < f.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), f[i]);
                return b;
            }
            case double[] d:
            {
                var b = new byte[d.Length * 8];
                for (int i = 0; i < d.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(8 * i), d[i]);
                return b;
            }
            case int[] n:
            {
                var b = new byte[n.Length * 4];
                for (int i = 0; i < n.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4 * i), n[i]);
                return b;
            }
            case long[] l:
            {
                var b = new byte[l.Length * 8];
                for (int i = 0; i < l.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8 * i), l[i]);
                return b;
            }
            default:
                throw new InvalidOperationException();
        }
    }
}
