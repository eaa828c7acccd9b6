// TreeRecord: what the reader keeps of a TTree object (entry count and branch hierarchy).
namespace Hep.RootIO.Format;

internal sealed class TreeRecord
{
    public string Name { get; set; } = "";
    public string Title { get; set; } = "";
    public int Version { get; set; }
    public long Entries { get; set; }
    public List<BranchRecord> Branches { get; } = new();
}
