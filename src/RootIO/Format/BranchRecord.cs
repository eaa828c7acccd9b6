// BranchRecord: what the reader keeps of a TBranch / TBranchElement / TBranchObject object:
// basket bookkeeping (fBasketBytes, fBasketEntry, fBasketSeek, fWriteBasket), sub-branches,
// leaves, embedded baskets, and for TBranchElement the class name and streamer type.
namespace Hep.RootIO.Format;

internal sealed class BranchRecord
{
    public string ClassName { get; set; } = "TBranch";
    public string Name { get; set; } = "";
    public string Title { get; set; } = "";
    public int Compress { get; set; }
    public int BasketSize { get; set; }
    public long EntryNumber { get; set; }
    public int SplitLevel { get; set; }
    public string ParentName { get; set; } = "";
    public string ClonesName { get; set; } = "";
    public uint CheckSum { get; set; }
    public int ClassVersion { get; set; }
    public int Maximum { get; set; }
    public int EntryOffsetLength { get; set; }
    public int WriteBasket { get; set; }
    public int MaxBaskets { get; set; }
    public long Entries { get; set; }
    public long FirstEntry { get; set; }
    public long TotalBytes { get; set; }
    public long ZipBytes { get; set; }
    public List<BranchRecord> Branches { get; } = new();
    public List<LeafRecord> Leaves { get; } = new();
    public List<EmbeddedBasket> EmbeddedBaskets { get; } = new();
    public int[] BasketBytes { get; set; } = [];
    public long[] BasketEntry { get; set; } = [];
    public long[] BasketSeek { get; set; } = [];

    // TBranchElement / TBranchObject members.
    public string ElementClassName { get; set; } = "";
    public int ElementId { get; set; }
    public int ElementType { get; set; }
    public int StreamerType { get; set; } = -1;
    public BranchRecord? BranchCount { get; set; }

    public bool IsElement => ClassName is "TBranchElement" or "TBranchObject" or "TBranchSTL";
}
