// DirectoryRecord: the TDirectory payload (top directory after the TFile key's name/title, or a
// subdirectory key's payload). We need only where its key list lives (fSeekKeys, fNbytesKeys).
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal sealed record DirectoryRecord(int Version, int NbytesKeys, long SeekDir, long SeekKeys)
{
    public static DirectoryRecord Read(RootBuffer b)
    {
        int version = b.ReadInt16();
        b.ReadUInt32(); // fDatimeC
        b.ReadUInt32(); // fDatimeM
        int nbytesKeys = b.ReadInt32();
        b.ReadInt32(); // fNbytesName
        bool large = version > 1000;
        long seekDir = large ? b.ReadInt64() : b.ReadInt32();
        if (large) b.ReadInt64(); else b.ReadInt32(); // fSeekParent
        long seekKeys = large ? b.ReadInt64() : b.ReadInt32();
        if (nbytesKeys < 0 || seekKeys < 0)
            throw b.Context.Error($"corrupt directory record (fSeekKeys={seekKeys}, fNbytesKeys={nbytesKeys})");
        return new DirectoryRecord(version, nbytesKeys, seekDir, seekKeys);
    }
}
