using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Kernels.Cpu;

namespace Hep.Engine.Tests;

/// <summary>
/// <see cref="StreamingLineWriter{T}"/> and the streaming maps built on it (<see cref="StreamingStores.Map{T, TOp}"/>,
/// <see cref="StreamingStores.Zip{T, TOp}"/>), at every start offset within a 64-byte line (the buffers are
/// allocated 64-byte aligned and the offsets chosen here, so the tests do not depend on where the heap
/// puts arrays): every element of the stream holds its value, and every element before and after it is
/// untouched. Lengths cover one to several whole vectors, partial last vectors of every size, and
/// streams shorter than a vector. AVX-512 only (the writer's instructions).
/// </summary>
public unsafe class StreamingLineWriterTests
{
    private const double Guard = -0.5;

    [SetUp]
    public void RequireAvx512() => Assume.That(Avx512F.IsSupported, "AVX-512 (the streaming writers' instructions)");

    [Test]
    public void WholeAndPartialStreamsAtEveryOffset([Values(4, 8)] int elementSize)
    {
        if (elementSize == 4) WholeAndPartial<float>();
        else WholeAndPartial<double>();
    }

    [Test]
    public void MapAndZipAtEveryOffsetInPlaceAndOutOfPlace([Values(4, 8)] int elementSize)
    {
        if (elementSize == 4) MapAndZip<float>();
        else MapAndZip<double>();
    }

    private static void WholeAndPartial<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lanes = Vector512<T>.Count, size = 8 * lanes + 64;
        T* buffer = (T*)NativeMemory.AlignedAlloc((nuint)(size * sizeof(T)), 64);
        try
        {
            for (int offset = 0; offset < lanes; offset++)
            {
                for (int whole = 1; whole <= 5; whole++)
                {
                    for (int count = -1; count <= lanes; count++) // −1: ends with Finish() after the whole vectors
                    {
                        new Span<T>(buffer, size).Fill(T.CreateTruncating(Guard));
                        T* start = buffer + lanes + offset;
                        var w = StreamingLineWriter<T>.For(start);
                        Assert.That(w.Lead, Is.EqualTo((lanes - offset) % lanes), "elements to the next line");
                        var prev = Ramp<T>(1);
                        w.First(start, prev);
                        for (int k = 1; k < whole; k++)
                        {
                            var v = Ramp<T>(1 + k * lanes);
                            w.Put(start + k * lanes, prev, v);
                            prev = v;
                        }
                        if (count < 0) w.Finish(start + whole * lanes, prev);
                        else w.Finish(start + whole * lanes, prev, Partial(Ramp<T>(1 + whole * lanes), count), count);
                        Sse.StoreFence();
                        int n = whole * lanes + Math.Max(count, 0);
                        Check(buffer, size, start - buffer, n, $"{typeof(T).Name} offset {offset}, {whole} vectors + {count}");
                    }
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static void MapAndZip<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lanes = Vector512<T>.Count, size = 12 * lanes + 64;
        T* x = (T*)NativeMemory.AlignedAlloc((nuint)(size * sizeof(T)), 64);
        T* y = (T*)NativeMemory.AlignedAlloc((nuint)(size * sizeof(T)), 64);
        try
        {
            for (int offset = 0; offset < lanes; offset++)
            {
                for (int n = 0; n <= 10 * lanes; n += n < 2 * lanes ? 1 : lanes - 1)
                {
                    string label = $"{typeof(T).Name} offset {offset}, n = {n}";
                    // Out of place (both ops give x back exactly, so y must hold 1 … n).
                    long at = lanes + offset;
                    Reset(x, size, at, n);
                    new Span<T>(y, size).Fill(T.CreateTruncating(Guard));
                    StreamingStores.Map(new ReadOnlySpan<T>(x + at, n), new Span<T>(y + at, n), default(Identity<T>));
                    Check(y, size, at, n, "Map " + label);
                    new Span<T>(y, size).Fill(T.CreateTruncating(Guard));
                    StreamingStores.Zip(new ReadOnlySpan<T>(x + at, n), new ReadOnlySpan<T>(x + at, n), new Span<T>(y + at, n), default(Mean<T>));
                    Check(y, size, at, n, "Zip " + label);
                    // In place (y aliases x at the same positions).
                    Reset(x, size, at, n);
                    StreamingStores.Map(new ReadOnlySpan<T>(x + at, n), new Span<T>(x + at, n), default(Identity<T>));
                    Check(x, size, at, n, "Map in place " + label);
                    Reset(x, size, at, n);
                    StreamingStores.Zip(new ReadOnlySpan<T>(x + at, n), new ReadOnlySpan<T>(x + at, n), new Span<T>(x + at, n), default(Mean<T>));
                    Check(x, size, at, n, "Zip in place " + label);
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(y);
        }
    }

    // Guard everywhere, 1 … n from at.
    private static void Reset<T>(T* p, int size, long at, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        new Span<T>(p, size).Fill(T.CreateTruncating(Guard));
        for (int i = 0; i < n; i++) p[at + i] = T.CreateTruncating(i + 1);
    }

    // Elements at … at + n − 1 hold 1 … n; all others still hold the guard.
    private static void Check<T>(T* p, int size, long at, int n, string label) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (long i = 0; i < size; i++)
        {
            double expected = i >= at && i < at + n ? i - at + 1 : Guard;
            double actual = double.CreateTruncating(p[i]);
            if (actual != expected) Assert.Fail($"{label}: element {i - at} relative to the start is {actual}, expected {expected}");
        }
    }

    // first, first + 1, … in the lanes.
    private static Vector512<T> Ramp<T>(int first) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector512.CreateSequence(T.CreateTruncating(first), T.One);

    // Lanes ≥ count replaced by a value that must never be stored.
    private static Vector512<T> Partial<T>(Vector512<T> v, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = count; i < Vector512<T>.Count; i++) v = v.WithElement(i, T.CreateTruncating(-999));
        return v;
    }

    private readonly struct Identity<T> : IVectorMap<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector512<T> Apply(Vector512<T> x) => x;
    }

    // (a + b) / 2 with a = b: a, exactly.
    private readonly struct Mean<T> : IVectorZip<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => (a + b) * Vector512.Create(T.CreateTruncating(0.5));
    }
}
