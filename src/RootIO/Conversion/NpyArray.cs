// NpyArray: a minimal reader for NumPy .npy files (format versions 1-3): little-endian float32,
// float64, int32, int64 and bool, C order. Anything else (big-endian, Fortran order, other
// dtypes, truncated data) raises InvalidDataException naming the file and the problem.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Hep.RootIO.Conversion;

public sealed partial class NpyArray
{
    private NpyArray(string path, RootValueType type, int[] shape, Array data)
    {
        Path = path;
        ValueType = type;
        Shape = shape;
        Data = data;
    }

    public string Path { get; }

    /// <summary>Element type (Float32, Float64, Int32, Int64 or Bool).</summary>
    public RootValueType ValueType { get; }

    public IReadOnlyList<int> Shape { get; }

    /// <summary>Flat C-order data: float[], double[], int[], long[] or bool[].</summary>
    public Array Data { get; }

    public long Length => Data.Length;

    public T[] As<T>() => Data as T[]
        ?? throw new InvalidDataException($"{Path}: array holds {ValueType}, not {typeof(T).Name}");

    /// <summary>Element at a flat index, converted to double.</summary>
    public double GetDouble(long index) => Data switch
    {
        float[] f => f[index],
        double[] d => d[index],
        int[] i => i[index],
        long[] l => l[index],
        bool[] b => b[index] ? 1 : 0,
        _ => throw new InvalidOperationException(),
    };

    public static NpyArray Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read .npy file: {ex.Message}", ex);
        }
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path}: not a .npy file (magic \\x93NUMPY missing)");
        int major = bytes[6];
        int headerLen, headerStart;
        if (major == 1)
        {
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
            headerStart = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new InvalidDataException($"{path}: truncated .npy header");
            headerLen = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), int.MaxValue);
            headerStart = 12;
        }
        else
        {
            throw new InvalidDataException($"{path}: unsupported .npy format version {major}");
        }
        if (headerStart + (long)headerLen > bytes.Length) throw new InvalidDataException($"{path}: truncated .npy header");
        string header = Encoding.Latin1.GetString(bytes, headerStart, headerLen);

        string descr = Field(DescrRegex(), header, path, "descr");
        if (Field(FortranRegex(), header, path, "fortran_order") == "True")
            throw new InvalidDataException($"{path}: Fortran-order arrays are not supported (save with C order)");
        int[] shape = ParseShape(Field(ShapeRegex(), header, path, "shape"), path);
        var (type, size) = descr switch
        {
            "<f4" => (RootValueType.Float32, 4),
            "<f8" => (RootValueType.Float64, 8),
            "<i4" => (RootValueType.Int32, 4),
            "<i8" => (RootValueType.Int64, 8),
            "|b1" => (RootValueType.Bool, 1),
            _ => throw new InvalidDataException($"{path}: unsupported dtype '{descr}' (supported: <f4 <f8 <i4 <i8 |b1)"),
        };
        long count = 1;
        foreach (int d in shape) count = checked(count * d);
        int dataStart = headerStart + headerLen;
        if (count > Array.MaxLength || bytes.Length - dataStart < count * size)
            throw new InvalidDataException($"{path}: data truncated: shape ({string.Join(", ", shape)}) needs {count * size} bytes, file has {bytes.Length - dataStart}");
        var data = RootValueTypes.Allocate(type, (int)count);
        var src = bytes.AsSpan(dataStart, (int)count * size);
        src.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(data), (int)count * size));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        if (data is bool[] b)
            for (int i = 0; i < b.Length; i++) b[i] = src[i] != 0;
        return new NpyArray(path, type, shape, data);
    }

    private static string Field(Regex re, string header, string path, string name)
    {
        var m = re.Match(header);
        if (!m.Success) throw new InvalidDataException($"{path}: .npy header lacks '{name}': {header.Trim()}");
        return m.Groups[1].Value;
    }

    private static int[] ParseShape(string text, string path)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out shape[i]) || shape[i] < 0)
                throw new InvalidDataException($"{path}: bad shape '({text})'");
        return shape;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
