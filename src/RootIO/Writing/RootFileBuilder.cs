// RootFileBuilder: lays out a new ROOT file on disk.
//
// Layout: file header (0..100), the top-directory TFile key at fBEGIN = 100 (its size is fixed
// up front), then keys appended in order (baskets while entries stream in; at Complete the
// TTree, the StreamerInfo list, the directory's key list and the free-segment list), and
// finally the header and top directory are rewritten with the real seeks. Everything goes to a
// temporary file next to the target, renamed over it only by Complete; Dispose without
// Complete deletes the temporary file. All seeks are 64-bit (large-file format).
using Hep.RootIO.Compression;
using Hep.RootIO.Internal;
using Hep.RootIO.Streamers;

namespace Hep.RootIO.Writing;

internal sealed class RootFileBuilder : IDisposable
{
    public const int Begin = 100;
    private const int FileVersion = 1_062_206; // large-file flag + ROOT 6.22/06
    private const int DirectoryRecordSize = 2 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 2 + 16;

    private readonly FileStream _stream;
    private readonly string _finalPath;
    private readonly string _tempPath;
    private readonly string _fileName;
    private readonly int _topKeyLength;
    private readonly int _nbytesName;
    private readonly List<byte[]> _directoryKeys = new();
    private readonly byte[] _uuid = Guid.NewGuid().ToByteArray();
    private bool _completed;

    public RootFileBuilder(string path, int compressionLevel)
    {
        _finalPath = Path.GetFullPath(path);
        _fileName = Path.GetFileName(_finalPath);
        _tempPath = _finalPath + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        CompressionLevel = compressionLevel;
        _topKeyLength = KeyWriter.HeaderLength("TFile", _fileName, "");
        _nbytesName = _topKeyLength + RootWriteBuffer.TStringLength(_fileName) + RootWriteBuffer.TStringLength("");
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        End = Begin + _nbytesName + DirectoryRecordSize;
        _stream.SetLength(End);
    }

    public int CompressionLevel { get; }

    /// <summary>fCompress as ROOT stores it: algorithm (1 = zlib) * 100 + level.</summary>
    public int CompressSetting => CompressionLevel > 0 ? 100 + CompressionLevel : 0;

    public long End { get; private set; }

    public string TempPath => _tempPath;

    /// <summary>Appends raw bytes (a complete key) at the end of the file and returns their seek.</summary>
    public long Append(ReadOnlySpan<byte> bytes)
    {
        long at = End;
        _stream.Position = at;
        _stream.Write(bytes);
        End += bytes.Length;
        return at;
    }

    /// <summary>Writes an object key (payload compressed when that helps) and returns (seek, nbytes).</summary>
    public (long Seek, int Nbytes) WriteObjectKey(string className, string name, string title,
        Func<int, byte[]> payloadForKeyLength, bool listInDirectory)
    {
        int keyLen = KeyWriter.HeaderLength(className, name, title);
        byte[] payload = payloadForKeyLength(keyLen);
        byte[] stored = RootCompressor.CompressZlib(payload, CompressionLevel) ?? payload;
        int nbytes = keyLen + stored.Length;
        long seek = End;
        var key = new RootWriteBuffer(0, keyLen);
        KeyWriter.Write(key, nbytes, payload.Length, keyLen, seek, Begin, className, name, title);
        Append(key.Written);
        Append(stored);
        if (listInDirectory) _directoryKeys.Add(key.ToArray());
        return (seek, nbytes);
    }

    /// <summary>Writes streamer infos, key list, free segments, header and top directory; renames into place.</summary>
    public void Complete(IReadOnlyList<StreamerInfo> streamerInfos)
    {
        var (seekInfo, nbytesInfo) = WriteObjectKey("TList", "StreamerInfo", "Doubly linked list", keyLen =>
        {
            var w = new RootWriteBuffer(keyLen, 16384);
            StreamerInfoWriter.WriteList(w, streamerInfos);
            return w.ToArray();
        }, listInDirectory: false);

        // Key list of the top directory (not compressed).
        int listKeyLen = KeyWriter.HeaderLength("TFile", _fileName, "");
        int listPayload = 4 + _directoryKeys.Sum(k => k.Length);
        long seekKeys = End;
        var list = new RootWriteBuffer(0, listKeyLen + listPayload);
        KeyWriter.Write(list, listKeyLen + listPayload, listPayload, listKeyLen, seekKeys, Begin, "TFile", _fileName, "");
        list.WriteInt32(_directoryKeys.Count);
        foreach (var k in _directoryKeys) list.WriteBytes(k);
        Append(list.Written);
        int nbytesKeys = list.Position;

        // Free-segment list: one segment from the end of the file on.
        int freeKeyLen = KeyWriter.HeaderLength("TFile", _fileName, "");
        long seekFree = End;
        var free = new RootWriteBuffer(0, freeKeyLen + 18);
        KeyWriter.Write(free, freeKeyLen + 18, 18, freeKeyLen, seekFree, Begin, "TFile", _fileName, "");
        long fileEnd = seekFree + freeKeyLen + 18;
        free.WriteInt16(1001);
        free.WriteInt64(fileEnd);
        free.WriteInt64(Math.Max(fileEnd, 2_000_000_000L) + 1_000_000_000L);
        Append(free.Written);
        int nbytesFree = free.Position;

        WriteHeader(seekFree, nbytesFree, seekInfo, nbytesInfo);
        WriteTopDirectory(nbytesKeys, seekKeys);
        _stream.Flush(flushToDisk: false);
        _stream.Dispose();
        File.Move(_tempPath, _finalPath, overwrite: true);
        _completed = true;
    }

    private void WriteHeader(long seekFree, int nbytesFree, long seekInfo, int nbytesInfo)
    {
        var h = new RootWriteBuffer(0, Begin);
        h.WriteBytes("root"u8);
        h.WriteInt32(FileVersion);
        h.WriteInt32(Begin);
        h.WriteInt64(End);
        h.WriteInt64(seekFree);
        h.WriteInt32(nbytesFree);
        h.WriteInt32(1); // nfree
        h.WriteInt32(_nbytesName);
        h.WriteByte(8); // fUnits: 64-bit seeks
        h.WriteInt32(CompressSetting);
        h.WriteInt64(seekInfo);
        h.WriteInt32(nbytesInfo);
        h.WriteInt16(1); // UUID version
        h.WriteBytes(_uuid);
        h.Reserve(Begin - h.Position).Clear();
        _stream.Position = 0;
        _stream.Write(h.Written);
    }

    private void WriteTopDirectory(int nbytesKeys, long seekKeys)
    {
        int objLen = _nbytesName - _topKeyLength + DirectoryRecordSize;
        var d = new RootWriteBuffer(0, _nbytesName + DirectoryRecordSize);
        KeyWriter.Write(d, _topKeyLength + objLen, objLen, _topKeyLength, Begin, 0, "TFile", _fileName, "");
        d.WriteTString(_fileName);
        d.WriteTString("");
        uint now = KeyWriter.Datime(DateTime.Now);
        d.WriteInt16(1005); // TDirectory version, 64-bit seeks
        d.WriteUInt32(now);
        d.WriteUInt32(now);
        d.WriteInt32(nbytesKeys);
        d.WriteInt32(_nbytesName);
        d.WriteInt64(Begin); // fSeekDir
        d.WriteInt64(0); // fSeekParent
        d.WriteInt64(seekKeys);
        d.WriteInt16(1);
        d.WriteBytes(_uuid);
        _stream.Position = Begin;
        _stream.Write(d.Written);
    }

    public void Dispose()
    {
        if (_completed) return;
        _stream.Dispose();
        try
        {
            File.Delete(_tempPath);
        }
        catch (IOException)
        {
            // best effort: an incomplete temporary file is never renamed into place
        }
    }
}
