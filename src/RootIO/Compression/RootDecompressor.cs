// RootDecompressor: undoes ROOT's block compression of a key payload (objects and baskets).
//
// A payload is a sequence of blocks, each with a 9-byte header: 2-letter algorithm ("ZL" zlib,
// "XZ" lzma/xz, "L4" lz4, "ZS" zstd, "CS" the pre-2000 ROOT codec, which we reject), a method
// byte, then 3-byte little-endian compressed and uncompressed sizes. LZ4 blocks start with an
// 8-byte big-endian xxhash64 of the compressed bytes, which we verify. Every decoder failure and
// every size mismatch becomes a RootFormatException.
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Hep.RootIO.Internal;

namespace Hep.RootIO.Compression;

internal static class RootDecompressor
{
    public const int HeaderSize = 9;

    [ThreadStatic] private static ZstdSharp.Decompressor? s_zstd;

    /// <summary>Decompresses src[offset..offset+length) into dst, which must be exactly the uncompressed size.</summary>
    public static void Decompress(byte[] src, int offset, int length, Span<byte> dst, ReadContext ctx)
    {
        int pos = offset;
        int end = offset + length;
        int written = 0;
        while (written < dst.Length)
        {
            if (end - pos < HeaderSize)
                throw ctx.Error($"compressed payload truncated: {written} of {dst.Length} bytes decoded");
            var header = new ReadOnlySpan<byte>(src, pos, HeaderSize);
            int compressed = header[3] | header[4] << 8 | header[5] << 16;
            int uncompressed = header[6] | header[7] << 8 | header[8] << 16;
            pos += HeaderSize;
            if (compressed > end - pos || uncompressed > dst.Length - written || uncompressed == 0)
                throw ctx.Error($"corrupt compression block header (compressed {compressed}, uncompressed {uncompressed})");
            var target = dst.Slice(written, uncompressed);
            DecodeBlock(header[0], header[1], src, pos, compressed, target, ctx);
            pos += compressed;
            written += uncompressed;
        }
    }

    private static void DecodeBlock(byte a, byte b, byte[] src, int pos, int count, Span<byte> target, ReadContext ctx)
    {
        int got;
        try
        {
            switch ((char)a, (char)b)
            {
                case ('Z', 'L'):
                    got = Inflate(new ZLibStream(new MemoryStream(src, pos, count, false), CompressionMode.Decompress), target);
                    break;
                case ('X', 'Z'):
                    got = Inflate(new SharpCompress.Compressors.Xz.XZStream(new MemoryStream(src, pos, count, false)), target);
                    break;
                case ('L', '4'):
                    got = DecodeLz4(new ReadOnlySpan<byte>(src, pos, count), target, ctx);
                    break;
                case ('Z', 'S'):
                    s_zstd ??= new ZstdSharp.Decompressor();
                    got = s_zstd.Unwrap(new ReadOnlySpan<byte>(src, pos, count), target);
                    break;
                case ('C', 'S'):
                    throw ctx.Error("old ROOT compression algorithm 'CS' is not supported");
                default:
                    throw ctx.Error($"unknown compression algorithm '{(char)a}{(char)b}' (0x{a:X2}{b:X2})");
            }
        }
        catch (RootFormatException) { throw; }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw ctx.Error($"corrupt {(char)a}{(char)b} compressed block: {ex.Message}", ex);
        }
        if (got != target.Length)
            throw ctx.Error($"compressed block decoded to {got} bytes, header says {target.Length}");
    }

    private static int Inflate(Stream stream, Span<byte> target)
    {
        using (stream)
        {
            int got = stream.ReadAtLeast(target, target.Length, throwOnEndOfStream: false);
            return got;
        }
    }

    private static int DecodeLz4(ReadOnlySpan<byte> block, Span<byte> target, ReadContext ctx)
    {
        if (block.Length < 8) throw ctx.Error("LZ4 block shorter than its checksum");
        ulong expected = BinaryPrimitives.ReadUInt64BigEndian(block);
        var payload = block[8..];
        ulong actual = XxHash64.HashToUInt64(payload);
        if (actual != expected)
            throw ctx.Error($"LZ4 checksum mismatch (expected {expected:X16}, computed {actual:X16})");
        int got = K4os.Compression.LZ4.LZ4Codec.Decode(payload, target);
        if (got < 0) throw ctx.Error("corrupt LZ4 block");
        return got;
    }
}
