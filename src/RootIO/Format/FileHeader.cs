// FileHeader: the fixed record at byte 0 of every ROOT file ("root" magic, format version,
// fBEGIN/fEND, free-segment list, top-directory name length, compression setting, seek of the
// StreamerInfo list). Versions >= 1000000 use 64-bit fEND/fSeekFree/fSeekInfo ("large" files).
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal sealed record FileHeader(
    int Version, int Begin, long End, long SeekFree, int NbytesFree, int NbytesName,
    int Compress, long SeekInfo, int NbytesInfo)
{
    public const int MaxSize = 64;

    public bool IsLarge => Version >= 1000000;

    public static FileHeader Parse(byte[] data, ReadContext ctx)
    {
        if (data.Length < 4 || data[0] != 'r' || data[1] != 'o' || data[2] != 'o' || data[3] != 't')
            throw ctx.Error("not a ROOT file (magic 'root' missing)");
        var b = new RootBuffer(data, ctx);
        b.Skip(4);
        int version = b.ReadInt32();
        int begin = b.ReadInt32();
        bool large = version >= 1000000;
        long end = large ? b.ReadInt64() : b.ReadInt32();
        long seekFree = large ? b.ReadInt64() : b.ReadInt32();
        int nbytesFree = b.ReadInt32();
        b.ReadInt32(); // nfree
        int nbytesName = b.ReadInt32();
        b.ReadByte(); // fUnits
        int compress = b.ReadInt32();
        long seekInfo = large ? b.ReadInt64() : b.ReadInt32();
        int nbytesInfo = b.ReadInt32();
        if (begin <= 0 || end < begin || nbytesName < 0 || seekInfo < 0 || nbytesInfo < 0)
            throw ctx.Error($"corrupt file header (fBEGIN={begin}, fEND={end}, fSeekInfo={seekInfo})");
        return new FileHeader(version, begin, end, seekFree, nbytesFree, nbytesName, compress, seekInfo, nbytesInfo);
    }
}
