using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu;

/// <summary>A single-pass vector map y = f(x) for <see cref="StreamingStores.Map{T, TOp}"/>.</summary>
internal interface IVectorMap<T> where T : unmanaged
{
    Vector512<T> Apply(Vector512<T> x);
}

/// <summary>A single-pass vector map y = f(a, b) for <see cref="StreamingStores.Zip{T, TOp}"/>.</summary>
internal interface IVectorZip<T> where T : unmanaged
{
    Vector512<T> Apply(Vector512<T> a, Vector512<T> b);
}

/// <summary>
/// Streaming (non-temporal) writers for bandwidth-bound maps whose output is far larger than the cache:
/// the stores bypass the cache, so writing the output does not first read it (no read-for-ownership),
/// which is what lets a copy reach full bandwidth. Used only when the whole output is at least
/// <see cref="ThresholdBytes"/> (smaller outputs are usually consumed next and should stay cached) and
/// with AVX-512. Copy, Fill and Blocks store the 64-byte-aligned middle of the destination with aligned
/// non-temporal stores, four vectors per iteration, and the unaligned head and ragged tail with ordinary
/// stores. Map and Zip compute their vectors from the first element on (so loads are aligned whenever the
/// sources are, whatever the destination's alignment) and hand them to <see cref="StreamingLineWriter{T}"/>,
/// which joins neighbouring vectors into the aligned line between them, so every whole line goes out with
/// one aligned non-temporal store and the partial lines at both ends with masked stores; a partial last
/// vector is computed by the same vector operation, so results are bit-identical to a plain vector loop
/// (the operations are lane-wise). Destinations may alias a source at identical positions (each vector is
/// loaded before any line holding it is stored).
/// Single-threaded over the span it is given; callers split across cores (<see cref="StridedRows"/>).
/// </summary>
internal static unsafe class StreamingStores
{
    /// <summary>Outputs of at least this many bytes (a quarter of this machine's L3) are streamed.</summary>
    public const long ThresholdBytes = 8L << 20;

    /// <summary>Elements per L1 block for <see cref="Blocks{T}"/> (8 KB, so a few operands fit in L1).</summary>
    public const int BlockBytes = 8 << 10;

    /// <summary>Whether an output of <paramref name="elements"/> T streams.</summary>
    public static bool Pays<T>(long elements) where T : unmanaged =>
        elements * sizeof(T) >= ThresholdBytes && Avx512F.IsSupported && Vector512<T>.IsSupported;

    /// <summary>Computes one block: destination[0..] = f(elements [start, start + destination.Length)).</summary>
    public delegate void BlockBody<T>(int start, Span<T> destination);

    /// <summary>
    /// Produces y block by block: each block (<see cref="BlockBytes"/>, so multi-pass formulas stay in L1;
    /// the last one also takes the remainder, so no block is a short span that a vectorised formula would
    /// finish with scalar code) is computed into an aligned L1 scratch buffer and copied out, with
    /// non-temporal stores for its 64-byte-aligned middle when <paramref name="stream"/>. Blocks start at
    /// y's first element whatever its alignment, so results do not depend on where y lies in memory, and
    /// computing into scratch makes multi-pass formulas safe when y aliases an input.
    /// </summary>
    public static void Blocks<T>(Span<T> y, bool stream, BlockBody<T> compute) where T : unmanaged
    {
        int n = y.Length, block = BlockBytes / sizeof(T);
        byte* raw = stackalloc byte[2 * BlockBytes + 64];
        T* scratch = (T*)(((nuint)raw + 63) & ~(nuint)63);
        fixed (T* py = y)
        {
            for (int i = 0, length; i < n; i += length)
            {
                length = n - i < 2 * block ? n - i : block;
                var piece = new Span<T>(scratch, length);
                compute(i, piece);
                if (stream) CopyStreaming((byte*)scratch, (byte*)(py + i), (long)length * sizeof(T));
                else piece.CopyTo(y.Slice(i, length));
            }
        }
        if (stream) Sse.StoreFence();
    }

    /// <summary>
    /// For outputs below the streaming threshold: calls compute(start, slice) on consecutive slices of y of
    /// at most <see cref="CachedChunkBytes"/> (the last one takes the remainder), written in place with
    /// ordinary stores. TensorPrimitives switches to non-temporal stores by itself for destinations above
    /// 256 KB; slicing keeps outputs that fit in cache in cache, where the next op will read them.
    /// </summary>
    public static void Cached<T>(Span<T> y, BlockBody<T> compute) where T : unmanaged
    {
        int n = y.Length, chunk = CachedChunkBytes / sizeof(T);
        for (int i = 0, length; i < n; i += length)
        {
            length = n - i < 2 * chunk ? n - i : chunk;
            compute(i, y.Slice(i, length));
        }
    }

    /// <summary>Slice size for <see cref="Cached{T}"/>: below TensorPrimitives' 256 KB non-temporal threshold.</summary>
    public const int CachedChunkBytes = 128 << 10;

    /// <summary>dst = src with non-temporal stores.</summary>
    public static void Copy<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged
    {
        fixed (T* ps = src, pd = dst) CopyStreaming((byte*)ps, (byte*)pd, (long)dst.Length * sizeof(T));
        Sse.StoreFence();
    }

    /// <summary>dst = value everywhere, with non-temporal stores.</summary>
    public static void Fill<T>(Span<T> dst, T value) where T : unmanaged
    {
        var v = Vector512.Create(value);
        fixed (T* pd = dst)
        {
            int n = dst.Length, lanes = Vector512<T>.Count, i = HeadLength(pd, n);
            dst[..i].Fill(value);
            for (; i <= n - 4 * lanes; i += 4 * lanes)
            {
                v.StoreAlignedNonTemporal(pd + i);
                v.StoreAlignedNonTemporal(pd + i + lanes);
                v.StoreAlignedNonTemporal(pd + i + 2 * lanes);
                v.StoreAlignedNonTemporal(pd + i + 3 * lanes);
            }
            dst[i..].Fill(value);
        }
        Sse.StoreFence();
    }

    /// <summary>y = op(x) elementwise with non-temporal stores (<see cref="Stream{T, TSource}"/>); y may alias x.</summary>
    public static void Map<T, TOp>(ReadOnlySpan<T> x, Span<T> y, TOp op) where T : unmanaged where TOp : struct, IVectorMap<T>
    {
        fixed (T* px = x, py = y) Stream(py, y.Length, new MapSource<T, TOp>(px, op));
    }

    /// <summary>y = op(a, b) elementwise with non-temporal stores (<see cref="Stream{T, TSource}"/>); y may alias a or b.</summary>
    public static void Zip<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y, TOp op) where T : unmanaged where TOp : struct, IVectorZip<T>
    {
        fixed (T* pa = a, pb = b, py = y) Stream(py, y.Length, new ZipSource<T, TOp>(pa, pb, op));
    }

    /// <summary>
    /// y[0, n) = the source's vectors in order, through a <see cref="StreamingLineWriter{T}"/> (four whole
    /// vectors per iteration, then single ones, then a partial last one), then a store fence. Each vector is
    /// computed before any line holding it is stored, so the source may read y at identical positions.
    /// </summary>
    private static void Stream<T, TSource>(T* py, int n, TSource source) where T : unmanaged where TSource : struct, IVectorSource<T>
    {
        int lanes = Vector512<T>.Count;
        if (n < lanes)
        {
            if (n > 0) StorePartial(source.Partial(0, n), py, n);
            return;
        }
        var w = StreamingLineWriter<T>.For(py);
        var prev = source.At(0);
        w.First(py, prev);
        nint i = lanes; // native-sized, so source offsets fold into address displacements
        for (; i <= n - 4 * lanes; i += 4 * lanes)
        {
            var v0 = source.At(i);
            var v1 = source.At(i + lanes);
            var v2 = source.At(i + 2 * lanes);
            var v3 = source.At(i + 3 * lanes);
            w.Put(py + i, prev, v0);
            w.Put(py + i + lanes, v0, v1);
            w.Put(py + i + 2 * lanes, v1, v2);
            w.Put(py + i + 3 * lanes, v2, v3);
            prev = v3;
        }
        for (; i <= n - lanes; i += lanes)
        {
            var v = source.At(i);
            w.Put(py + i, prev, v);
            prev = v;
        }
        if (i < n) w.Finish(py + i, prev, source.Partial(i, (int)(n - i)), (int)(n - i));
        else w.Finish(py + i, prev);
        Sse.StoreFence();
    }

    // The output vector at element i of a streaming map (At), or its first count lanes with the rest zero-filled inputs (Partial).
    private interface IVectorSource<T> where T : unmanaged
    {
        Vector512<T> At(nint i);

        Vector512<T> Partial(nint i, int count);
    }

    private readonly struct MapSource<T, TOp>(T* x, TOp op) : IVectorSource<T> where T : unmanaged where TOp : struct, IVectorMap<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> At(nint i) => op.Apply(Vector512.Load(x + i));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Partial(nint i, int count) => op.Apply(LoadPartial(x + i, count));
    }

    private readonly struct ZipSource<T, TOp>(T* a, T* b, TOp op) : IVectorSource<T> where T : unmanaged where TOp : struct, IVectorZip<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> At(nint i) => op.Apply(Vector512.Load(a + i), Vector512.Load(b + i));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> Partial(nint i, int count) => op.Apply(LoadPartial(a + i, count), LoadPartial(b + i, count));
    }

    // Elements before p reaches a 64-byte boundary (at most n); p is T-aligned in every CPU buffer.
    private static int HeadLength<T>(T* p, int n) where T : unmanaged =>
        (int)Math.Min(n, (long)((64 - ((nuint)p & 63)) & 63) / sizeof(T));

    // Ordinary copies up to d's first 64-byte boundary and after the last whole 256-byte stretch,
    // aligned non-temporal stores in between (the caller fences).
    private static void CopyStreaming(byte* s, byte* d, long bytes)
    {
        long head = Math.Min(bytes, (long)((64 - ((nuint)d & 63)) & 63));
        Buffer.MemoryCopy(s, d, head, head);
        long body = (bytes - head) & ~255L;
        CopyAligned(s + head, d + head, body);
        long done = head + body;
        Buffer.MemoryCopy(s + done, d + done, bytes - done, bytes - done);
    }

    // bytes is a multiple of 256 and d is 64-byte aligned.
    private static void CopyAligned(byte* s, byte* d, long bytes)
    {
        for (long i = 0; i < bytes; i += 256)
        {
            var v0 = Vector512.Load(s + i);
            var v1 = Vector512.Load(s + i + 64);
            var v2 = Vector512.Load(s + i + 128);
            var v3 = Vector512.Load(s + i + 192);
            v0.StoreAlignedNonTemporal(d + i);
            v1.StoreAlignedNonTemporal(d + i + 64);
            v2.StoreAlignedNonTemporal(d + i + 128);
            v3.StoreAlignedNonTemporal(d + i + 192);
        }
    }

    // The first count lanes from p, the rest zero (never read past p + count).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> LoadPartial<T>(T* p, int count) where T : unmanaged
    {
        Vector512<T> v = default;
        Buffer.MemoryCopy(p, &v, 64, (long)count * sizeof(T));
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePartial<T>(Vector512<T> v, T* p, int count) where T : unmanaged =>
        Buffer.MemoryCopy(&v, p, (long)count * sizeof(T), (long)count * sizeof(T));
}
