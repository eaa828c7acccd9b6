// LeafRecord: what the reader keeps of a TLeaf* / TLeafElement object.
//
// fLen is the fixed number of values per entry (product of fixed dimensions), fLeafCount the
// counter leaf of a C-style jagged array, fOffset the byte offset inside a leaf-list entry.
namespace Hep.RootIO.Format;

internal sealed class LeafRecord
{
    public string ClassName { get; set; } = "";
    public string Name { get; set; } = "";
    public string Title { get; set; } = "";
    public int Length { get; set; }
    public int LengthType { get; set; }
    public int Offset { get; set; }
    public bool IsRange { get; set; }
    public bool IsUnsigned { get; set; }
    public LeafRecord? LeafCount { get; set; }

    /// <summary>TLeafElement only: streamer element id and type.</summary>
    public int ElementId { get; set; } = -1;
    public int ElementType { get; set; } = -1;
}
