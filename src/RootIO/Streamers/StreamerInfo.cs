// StreamerInfo: a TStreamerInfo record, the self-description ROOT stores for each class whose
// objects appear in a file (class name, version, checksum and the ordered list of members).
namespace Hep.RootIO.Streamers;

public sealed class StreamerInfo
{
    public string ClassName { get; set; } = "";
    public string Title { get; set; } = "";
    public uint CheckSum { get; set; }
    public int ClassVersion { get; set; }
    public int Version { get; set; } = 9;
    public List<StreamerElement> Elements { get; } = new();

    public override string ToString() => $"{ClassName} v{ClassVersion} ({Elements.Count} members)";
}
