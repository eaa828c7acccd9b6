// StreamerElement: one member (or base class) of a class as described in a TStreamerInfo record.
// The ClassName says which TStreamer* subclass it is (TStreamerBase, TStreamerBasicType,
// TStreamerBasicPointer, TStreamerObject, TStreamerSTL, ...); the fields mirror ROOT's members.
namespace Hep.RootIO.Streamers;

public sealed class StreamerElement
{
    public string ClassName { get; set; } = "";
    public int Version { get; set; }
    public int BaseElementVersion { get; set; } = 4;
    public string Name { get; set; } = "";
    public string Title { get; set; } = "";
    public int Type { get; set; }
    public int Size { get; set; }
    public int ArrayLength { get; set; }
    public int ArrayDim { get; set; }
    public int[] MaxIndex { get; set; } = new int[5];
    public string TypeName { get; set; } = "";

    /// <summary>TStreamerBase: version of the base class.</summary>
    public int BaseVersion { get; set; }

    /// <summary>TStreamerBasicPointer / TStreamerLoop: the counter member.</summary>
    public int CountVersion { get; set; }
    public string CountName { get; set; } = "";
    public string CountClass { get; set; } = "";

    /// <summary>TStreamerSTL: container kind and element type code.</summary>
    public int StlType { get; set; }
    public int CType { get; set; }

    public override string ToString() => $"{ClassName} {TypeName} {Name} (type {Type})";
}
