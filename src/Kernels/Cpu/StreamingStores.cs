using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Streaming (non-temporal) variants of bandwidth-bound maps for outputs far larger than the cache:
/// the stores bypass the cache, so writing the output does not first read it (no read-for-ownership),
/// which is what lets a plain memmove reach full bandwidth. Used only above <see cref="Threshold"/>
/// elements (smaller outputs are usually consumed next and should stay cached) and with AVX-512.
/// </summary>
internal static unsafe class StreamingStores
{
    public const int Threshold = 1 << 20;

    public static bool Applies(int length) => length >= Threshold && Avx512F.IsSupported;

    /// <summary>y = max(x, 0) with aligned non-temporal stores; y may alias x.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x, py = y)
        {
            int n = x.Length, i = 0;
            for (; i < n && ((nuint)(py + i) & 63) != 0; i++) py[i] = MathF.Max(px[i], 0f);
            var zero = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16) Vector512.Max(Vector512.Load(px + i), zero).StoreAlignedNonTemporal(py + i);
            for (; i < n; i++) py[i] = MathF.Max(px[i], 0f);
        }
        Sse.StoreFence();
    }

    /// <summary>y = a + b (add) or a ⊙ b (multiply) with aligned non-temporal stores; y may alias a or b.</summary>
    public static void AddOrMultiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, bool multiply)
    {
        fixed (float* pa = a, pb = b, py = y)
        {
            int n = y.Length, i = 0;
            for (; i < n && ((nuint)(py + i) & 63) != 0; i++) py[i] = multiply ? pa[i] * pb[i] : pa[i] + pb[i];
            if (multiply)
            {
                for (; i <= n - 16; i += 16) (Vector512.Load(pa + i) * Vector512.Load(pb + i)).StoreAlignedNonTemporal(py + i);
            }
            else
            {
                for (; i <= n - 16; i += 16) (Vector512.Load(pa + i) + Vector512.Load(pb + i)).StoreAlignedNonTemporal(py + i);
            }
            for (; i < n; i++) py[i] = multiply ? pa[i] * pb[i] : pa[i] + pb[i];
        }
        Sse.StoreFence();
    }
}
