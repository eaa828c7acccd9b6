// ObjectHeader: the "byte count + version" prefix ROOT writes before every streamed object.
//
// A 32-bit count with bit 30 set (kByteCountMask) gives the object's length, then a 16-bit class
// version. Very old objects carry only the version. The count lets us skip parts we do not model.
namespace Hep.RootIO.Format;

internal readonly record struct ObjectHeader(int Version, int End, bool MemberWise)
{
    public const uint ByteCountMask = 0x40000000;
    public const uint NewClassTag = 0xFFFFFFFF;
    public const uint ClassMask = 0x80000000;
    public const int MapOffset = 2;
    public const ushort StreamedMemberWise = 0x4000;

    /// <summary>True when the record carried a byte count, so End is meaningful.</summary>
    public bool HasEnd => End >= 0;

    public static ObjectHeader Read(Internal.RootBuffer b)
    {
        int start = b.Position;
        uint first = b.ReadUInt32();
        if ((first & ByteCountMask) != 0)
        {
            int count = (int)(first & ~ByteCountMask);
            int end = start + 4 + count;
            if (count < 2 || end > b.Length)
                throw b.Context.Error($"corrupt object byte count {count} at offset {start}");
            ushort v = b.ReadUInt16();
            return new ObjectHeader(v & ~StreamedMemberWise, end, (v & StreamedMemberWise) != 0);
        }
        b.Position = start;
        ushort version = b.ReadUInt16();
        return new ObjectHeader(version & ~StreamedMemberWise, -1, (version & StreamedMemberWise) != 0);
    }

    /// <summary>Moves the cursor to the end of this object (no-op without a byte count).</summary>
    public void SkipToEnd(Internal.RootBuffer b)
    {
        if (HasEnd) b.Position = End;
    }

    /// <summary>Skips an object whose content we do not need; it must carry a byte count.</summary>
    public static void Skip(Internal.RootBuffer b, string className)
    {
        var h = Read(b);
        if (!h.HasEnd) throw b.Context.Error($"cannot skip {className} streamed without a byte count");
        b.Position = h.End;
    }
}
