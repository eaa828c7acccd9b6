namespace Hep.Engine;

/// <summary>Element type of a tensor. Float32 trains, Float64 serves gradient checks, Int32 holds indices.</summary>
public enum DType
{
    Float32,
    Float64,
    Int32,
}

/// <summary>Size and naming helpers for <see cref="DType"/>.</summary>
public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.Int32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>True for Float32 and Float64.</summary>
    public static bool IsFloating(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>The <see cref="DType"/> of a CLR element type (float, double, int).</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        throw new NotSupportedException($"element type {typeof(T).Name} has no DType (float, double, int are supported)");
    }
}
