namespace Hep.Models.Checkpoints;

/// <summary>Element types a checkpoint tensor can hold on the host.</summary>
public enum HostDType
{
    Float32,
    Float64,
    Int32,
    Int64,
}

/// <summary>
/// A named checkpoint tensor on the host: element type, shape and row-major data (float[], double[],
/// int[] or long[]). Converted to an engine tensor of the model's dtype when loaded.
/// </summary>
public sealed class HostTensor
{
    public HostTensor(HostDType dtype, int[] shape, Array data)
    {
        long numel = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"HostTensor: negative dimension in [{string.Join(", ", shape)}]");
            numel *= d;
        }
        if (data.LongLength != numel) throw new ArgumentException($"HostTensor: {data.LongLength} values for shape [{string.Join(", ", shape)}]");
        bool typeOk = dtype switch
        {
            HostDType.Float32 => data is float[],
            HostDType.Float64 => data is double[],
            HostDType.Int32 => data is int[],
            HostDType.Int64 => data is long[],
            _ => false,
        };
        if (!typeOk) throw new ArgumentException($"HostTensor: {data.GetType().Name} does not hold {dtype}");
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    public HostDType DType { get; }
    public int[] Shape { get; }
    public Array Data { get; }
    public long Numel => Data.LongLength;

    public static HostTensor FromTensor(Tensor t) => t.DType switch
    {
        Engine.DType.Float32 => new HostTensor(HostDType.Float32, t.Shape.ToArray(), t.ToArray<float>()),
        Engine.DType.Float64 => new HostTensor(HostDType.Float64, t.Shape.ToArray(), t.ToArray<double>()),
        Engine.DType.Int32 => new HostTensor(HostDType.Int32, t.Shape.ToArray(), t.ToArray<int>()),
        _ => throw new NotSupportedException($"HostTensor: dtype {t.DType}"),
    };

    /// <summary>All values as double (Int64 values beyond 2^53 lose precision).</summary>
    public double[] ToDoubles() => Data switch
    {
        float[] f => Array.ConvertAll(f, v => (double)v),
        double[] d => (double[])d.Clone(),
        int[] i => Array.ConvertAll(i, v => (double)v),
        long[] l => Array.ConvertAll(l, v => (double)v),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>An engine tensor of the given dtype (floats are cast; integers become Int32, range-checked).</summary>
    public Tensor ToTensor(IBackend backend, Engine.DType dtype)
    {
        var shape = new Shape(Shape);
        switch (dtype)
        {
            case Engine.DType.Float32:
                return Tensor.FromArray<float>(backend, Data as float[] ?? Array.ConvertAll(ToDoubles(), v => (float)v), shape);
            case Engine.DType.Float64:
                return Tensor.FromArray<double>(backend, ToDoubles(), shape);
            case Engine.DType.Int32:
                if (Data is int[] ints) return Tensor.FromArray<int>(backend, ints, shape);
                if (Data is long[] longs)
                {
                    var narrowed = new int[longs.Length];
                    for (int i = 0; i < longs.Length; i++) narrowed[i] = checked((int)longs[i]);
                    return Tensor.FromArray<int>(backend, narrowed, shape);
                }
                throw new InvalidOperationException($"HostTensor: cannot convert {DType} to Int32");
            default:
                throw new NotSupportedException($"HostTensor: dtype {dtype}");
        }
    }

    public override string ToString() => $"{DType}[{string.Join(", ", Shape)}]";
}
