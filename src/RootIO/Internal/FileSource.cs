// FileSource: positional, thread-safe reads from the underlying file (RandomAccess on a handle),
// so that files larger than memory are read range by range. Reads past the end of the file
// raise RootFormatException ("truncated") instead of returning short buffers.
using Microsoft.Win32.SafeHandles;

namespace Hep.RootIO.Internal;

internal sealed class FileSource : IDisposable
{
    private readonly SafeFileHandle _handle;

    public FileSource(string path)
    {
        Path = path;
        try
        {
            _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
            Length = RandomAccess.GetLength(_handle);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw RootFormatException.Create(path, null, $"cannot open: {ex.Message}", ex);
        }
    }

    public string Path { get; }

    public long Length { get; }

    public byte[] Read(long offset, int length, ReadContext ctx)
    {
        var buffer = new byte[length];
        Read(offset, buffer, ctx);
        return buffer;
    }

    public void Read(long offset, Span<byte> destination, ReadContext ctx)
    {
        if (offset < 0 || destination.Length < 0 || offset + destination.Length > Length)
            throw ctx.Error($"file truncated or corrupt: need bytes [{offset}, {offset + destination.Length}) but file has {Length}");
        int done = 0;
        while (done < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[done..], offset + done);
            if (n <= 0) throw ctx.Error($"unexpected end of file at {offset + done}");
            done += n;
        }
    }

    /// <summary>Reads up to length bytes (fewer at the end of the file).</summary>
    public byte[] ReadAtMost(long offset, int length, ReadContext ctx)
    {
        if (offset < 0 || offset >= Length) throw ctx.Error($"seek {offset} outside file of {Length} bytes");
        int n = (int)Math.Min(length, Length - offset);
        return Read(offset, n, ctx);
    }

    public void Dispose() => _handle.Dispose();
}
