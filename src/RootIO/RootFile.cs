// RootFile: opens a ROOT file and gives access to its directories, trees and streamer infos.
//
// Usage:
//   using var file = RootFile.Open("events.root");
//   foreach (var path in file.ListTrees()) Console.WriteLine(path);
//   var tree = file.GetTree("events");
//   ColumnData px = tree.ReadColumn("Jet_Px");
//
// Nothing but the header and the top directory is read on open; trees, baskets and streamer
// infos are read on demand with positional reads, so large files are never loaded whole.
using Hep.RootIO.Compression;
using Hep.RootIO.Format;
using Hep.RootIO.Internal;
using Hep.RootIO.Streamers;
using Hep.RootIO.Trees;

namespace Hep.RootIO;

public sealed class RootFile : IDisposable
{
    private readonly FileSource _source;
    private IReadOnlyList<StreamerInfo>? _streamerInfos;

    private RootFile(FileSource source)
    {
        _source = source;
        Context = new ReadContext(source.Path);
        if (source.Length < 4) throw Context.Error($"file truncated ({source.Length} bytes)");
        Header = FileHeader.Parse(source.ReadAtMost(0, FileHeader.MaxSize, Context), Context);
        if (Header.End > source.Length)
            throw Context.Error($"file truncated: header says {Header.End} bytes, file has {source.Length}");
        Directory = ReadTopDirectory();
    }

    /// <summary>Opens a file for reading. Throws RootFormatException if it is not a readable ROOT file.</summary>
    public static RootFile Open(string path)
    {
        var source = new FileSource(path);
        try
        {
            return Guard.Run(new ReadContext(path), () => new RootFile(source));
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    public string Path => _source.Path;

    /// <summary>ROOT version that wrote the file (e.g. 62004), without the large-file flag.</summary>
    public int FormatVersion => Header.Version % 1000000;

    /// <summary>Default compression setting of the file (algorithm * 100 + level).</summary>
    public int CompressionSetting => Header.Compress;

    public RootDirectory Directory { get; }

    /// <summary>The file's TStreamerInfo records (class layouts), read on first use.</summary>
    public IReadOnlyList<StreamerInfo> StreamerInfos =>
        _streamerInfos ??= Guard.Run(Context, ReadStreamerInfos);

    internal FileHeader Header { get; }

    internal ReadContext Context { get; }

    internal FileSource Source => _source;

    /// <summary>Paths ("tree" or "dir/sub/tree") of every TTree in the file, highest cycle only.</summary>
    public IReadOnlyList<string> ListTrees()
    {
        var result = new List<string>();
        Directory.CollectTrees("", result);
        return result;
    }

    /// <summary>Opens a tree by path ("events" or "dir/events").</summary>
    public RootTree GetTree(string path) => Directory.GetTree(path);

    /// <summary>Reads a key's payload (decompressed) and returns it with its parsed header.</summary>
    internal (KeyHeader Key, byte[] Payload) ReadKey(long seek, int nbytes, ReadContext ctx)
    {
        byte[] raw = nbytes > 0 ? _source.Read(seek, nbytes, ctx) : _source.ReadAtMost(seek, KeyHeader.MaxProbe, ctx);
        var key = KeyHeader.Read(new RootBuffer(raw, ctx));
        if (nbytes <= 0) raw = _source.Read(seek, key.Nbytes, ctx);
        if (key.Nbytes > raw.Length) throw ctx.Error($"key '{key.Name}' claims {key.Nbytes} bytes, record has {raw.Length}");
        return (key, Decompress(key, raw, ctx));
    }

    internal static byte[] Decompress(KeyHeader key, byte[] raw, ReadContext ctx)
    {
        int stored = key.Nbytes - key.KeyLen;
        if (!key.IsCompressed) return raw.AsSpan(key.KeyLen, stored).ToArray();
        if (key.ObjLen > 0x7FFFFFC7 || key.ObjLen > (long)stored * 2000 + 1024)
            throw ctx.Error($"implausible uncompressed size {key.ObjLen} for key '{key.Name}'");
        var payload = new byte[key.ObjLen];
        RootDecompressor.Decompress(raw, key.KeyLen, stored, payload, ctx);
        return payload;
    }

    private RootDirectory ReadTopDirectory()
    {
        long at = Header.Begin + (long)Header.NbytesName;
        var rec = DirectoryRecord.Read(new RootBuffer(_source.ReadAtMost(at, 128, Context), Context));
        return new RootDirectory(this, "", rec);
    }

    private IReadOnlyList<StreamerInfo> ReadStreamerInfos()
    {
        if (Header.SeekInfo <= 0) return [];
        var (key, payload) = ReadKey(Header.SeekInfo, Header.NbytesInfo, Context);
        var b = new RootBuffer(payload, 0, payload.Length, key.KeyLen, Context);
        var list = ObjectReader.ReadList(b);
        return list.OfType<StreamerInfo>().ToList();
    }

    public void Dispose() => _source.Dispose();
}
