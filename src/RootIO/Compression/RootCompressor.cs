// RootCompressor: writes ROOT's block-compressed payload with zlib ("ZL", deflate method 8):
// blocks of at most 2^24-1 uncompressed bytes, each with the 9-byte header. If compression
// does not shrink the data the caller stores it raw, as ROOT does (ObjLen == Nbytes - KeyLen).
using System.IO.Compression;

namespace Hep.RootIO.Compression;

internal static class RootCompressor
{
    private const int MaxBlock = 0xFFFFFF;

    /// <summary>Compressed payload, or null when it would not be smaller than the input.</summary>
    public static byte[]? CompressZlib(ReadOnlySpan<byte> data, int level)
    {
        if (level <= 0 || data.Length == 0) return null;
        using var output = new MemoryStream(data.Length / 2 + 64);
        Span<byte> header = stackalloc byte[RootDecompressor.HeaderSize];
        for (int pos = 0; pos < data.Length; pos += MaxBlock)
        {
            var block = data.Slice(pos, Math.Min(MaxBlock, data.Length - pos));
            long headerAt = output.Position;
            output.Write(header); // placeholder
            long start = output.Position;
            using (var z = new ZLibStream(output, new ZLibCompressionOptions { CompressionLevel = Math.Clamp(level, 1, 9) }, leaveOpen: true))
                z.Write(block);
            long compressed = output.Position - start;
            if (compressed > MaxBlock) return null;
            header[0] = (byte)'Z';
            header[1] = (byte)'L';
            header[2] = 8;
            WriteSize(header[3..6], (int)compressed);
            WriteSize(header[6..9], block.Length);
            long end = output.Position;
            output.Position = headerAt;
            output.Write(header);
            output.Position = end;
        }
        return output.Length < data.Length ? output.ToArray() : null;
    }

    private static void WriteSize(Span<byte> dst, int v)
    {
        dst[0] = (byte)v;
        dst[1] = (byte)(v >> 8);
        dst[2] = (byte)(v >> 16);
    }
}
