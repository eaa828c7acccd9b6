// EmbeddedBasket: a TBasket stored inside the TTree object (fBaskets of a TBranch), as ROOT does
// for the last, unflushed basket of each branch or when a file was "recovered". Its payload is
// stored uncompressed right there, so the reader keeps the bytes and the entry offsets.
namespace Hep.RootIO.Format;

internal sealed class EmbeddedBasket
{
    public int EntryCount { get; set; }
    public byte[] Data { get; set; } = [];

    /// <summary>Per-entry byte offsets into Data (EntryCount + 1 values) or null for fixed-size entries.</summary>
    public int[]? Offsets { get; set; }
}
