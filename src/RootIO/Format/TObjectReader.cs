// TObjectReader: the two base records nearly every ROOT class starts with, TObject and TNamed.
//
// TObject: version (16 bit), fUniqueID, fBits, plus a 16-bit process id when the object was
// referenced (kIsReferenced). TNamed: header, TObject, then fName and fTitle strings.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal static class TObjectReader
{
    private const uint IsReferenced = 1u << 4;

    public static void ReadTObject(RootBuffer b)
    {
        ushort version = b.ReadUInt16();
        if ((version & 0x4000) != 0) b.Skip(4);
        b.ReadUInt32(); // fUniqueID
        uint bits = b.ReadUInt32();
        if ((bits & IsReferenced) != 0) b.Skip(2);
    }

    public static (string Name, string Title) ReadTNamed(RootBuffer b)
    {
        var h = ObjectHeader.Read(b);
        ReadTObject(b);
        string name = b.ReadTString();
        string title = b.ReadTString();
        h.SkipToEnd(b);
        return (name, title);
    }
}
