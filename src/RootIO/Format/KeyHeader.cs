// KeyHeader: a TKey record, which precedes every stored object (and every basket).
// Nbytes = key + compressed payload; ObjLen = uncompressed payload; KeyLen = this header's size.
// Key versions > 1000 use 64-bit seeks.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal sealed record KeyHeader(
    int Nbytes, int Version, int ObjLen, int KeyLen, int Cycle, long SeekKey, long SeekPdir,
    string ClassName, string Name, string Title)
{
    /// <summary>Upper bound on a key header's size, used to read it before its length is known.</summary>
    public const int MaxProbe = 1024;

    public bool IsCompressed => ObjLen != Nbytes - KeyLen;

    public static KeyHeader Read(RootBuffer b)
    {
        int nbytes = b.ReadInt32();
        int version = b.ReadInt16();
        int objLen = b.ReadInt32();
        b.ReadUInt32(); // fDatime
        int keyLen = b.ReadInt16();
        int cycle = b.ReadInt16();
        bool large = version > 1000;
        long seekKey = large ? b.ReadInt64() : b.ReadInt32();
        long seekPdir = large ? b.ReadInt64() : b.ReadInt32();
        string cls = b.ReadTString();
        string name = b.ReadTString();
        string title = b.ReadTString();
        if (nbytes < keyLen || keyLen <= 0 || objLen < 0 || seekKey < 0)
            throw b.Context.Error($"corrupt key '{name}' (Nbytes={nbytes}, KeyLen={keyLen}, ObjLen={objLen})");
        return new KeyHeader(nbytes, version, objLen, keyLen, cycle, seekKey, seekPdir, cls, name, title);
    }
}
