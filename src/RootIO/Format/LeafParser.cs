// LeafParser: TLeaf (class version 2) and its typed subclasses (TLeafF, TLeafI, TLeafElement...).
// The subclass adds fMinimum/fMaximum (skipped via byte count); TLeafElement adds fID and fType.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal static class LeafParser
{
    public static void Read(RootBuffer b, LeafRecord leaf)
    {
        var h = ObjectHeader.Read(b);
        if (leaf.ClassName == "TLeaf")
        {
            ReadLeafBody(b, leaf, h.Version);
        }
        else
        {
            var baseHeader = ObjectHeader.Read(b);
            ReadLeafBody(b, leaf, baseHeader.Version);
            baseHeader.SkipToEnd(b);
            if (leaf.ClassName == "TLeafElement")
            {
                leaf.ElementId = b.ReadInt32();
                leaf.ElementType = b.ReadInt32();
            }
        }
        h.SkipToEnd(b);
    }

    private static void ReadLeafBody(RootBuffer b, LeafRecord leaf, int version)
    {
        (leaf.Name, leaf.Title) = TObjectReader.ReadTNamed(b);
        leaf.Length = b.ReadInt32();
        leaf.LengthType = b.ReadInt32();
        leaf.Offset = b.ReadInt32();
        leaf.IsRange = b.ReadBool();
        leaf.IsUnsigned = b.ReadBool();
        if (version >= 2) leaf.LeafCount = ObjectReader.ReadObjectAny(b) as LeafRecord;
        if (leaf.Length < 0 || leaf.Offset < 0)
            throw b.Context.Error($"corrupt leaf '{leaf.Name}' (fLen={leaf.Length}, fOffset={leaf.Offset})");
    }
}
