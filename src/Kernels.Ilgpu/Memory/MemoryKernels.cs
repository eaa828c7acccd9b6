namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Strided copy, cast and fill. One thread per element of the (merged) iteration shape; each
/// operand's element offset comes from its <see cref="Strides6"/>, so transposed, sliced and
/// broadcast views are read and written in place. Pure maps: deterministic.
/// </summary>
internal static class MemoryKernels
{
    // dst[i] = src[i] for one shared shape; src and dst any strides (dst must not overlap itself).
    [KernelEntry]
    public static void Copy<T>(Index1D i, ArrayView<T> src, ArrayView<T> dst, Dims6 dims, Strides6 srcStrides, Strides6 dstStrides)
        where T : unmanaged
    {
        dst[dstStrides.At(i, dims)] = src[srcStrides.At(i, dims)];
    }

    // dst[i] = (TTo)src[i]; TConv fixes the conversion (truncation toward zero for float → int).
    [KernelEntry]
    public static void Cast<TFrom, TTo, TConv>(Index1D i, ArrayView<TFrom> src, ArrayView<TTo> dst, Dims6 dims, Strides6 srcStrides, Strides6 dstStrides)
        where TFrom : unmanaged
        where TTo : unmanaged
        where TConv : struct, IConversion<TFrom, TTo>
    {
        dst[dstStrides.At(i, dims)] = TConv.Convert(src[srcStrides.At(i, dims)]);
    }

    // dst[i] = value over a possibly strided view.
    [KernelEntry]
    public static void Fill<T>(Index1D i, ArrayView<T> dst, Dims6 dims, Strides6 dstStrides, T value)
        where T : unmanaged
    {
        dst[dstStrides.At(i, dims)] = value;
    }
}

/// <summary>A scalar conversion usable in kernels.</summary>
internal interface IConversion<TFrom, TTo>
{
    static abstract TTo Convert(TFrom value);
}

internal readonly struct F32ToF64 : IConversion<float, double>
{
    public static double Convert(float value) => value;
}

internal readonly struct F64ToF32 : IConversion<double, float>
{
    public static float Convert(double value) => (float)value;
}

internal readonly struct I32ToF32 : IConversion<int, float>
{
    public static float Convert(int value) => value;
}

internal readonly struct I32ToF64 : IConversion<int, double>
{
    public static double Convert(int value) => value;
}

internal readonly struct F32ToI32 : IConversion<float, int>
{
    public static int Convert(float value) => (int)value;
}

internal readonly struct F64ToI32 : IConversion<double, int>
{
    public static int Convert(double value) => (int)value;
}
