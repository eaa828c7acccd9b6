// ObjectReader: ROOT's polymorphic pointer encoding (TBufferFile::ReadObjectAny) and the two
// container classes with hand-written streamers, TObjArray and TList.
//
// A pointer is written as: 0 (null) | back-reference to an object already read | byte count +
// (new-class tag + class name | back-reference to a class) + the object. Back-references are
// displacements (record offset + key length) + kMapOffset, recorded in RootBuffer.References.
// Objects are registered before their members are read so that children may point at parents.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal static class ObjectReader
{
    private const int MaxDepth = 100;

    public static object? ReadObjectAny(RootBuffer b)
    {
        if (b.Depth >= MaxDepth) throw b.Context.Error($"objects nested deeper than {MaxDepth} levels (corrupt record)");
        b.Depth++;
        try
        {
            return ReadObjectAnyCore(b);
        }
        finally
        {
            b.Depth--;
        }
    }

    private static object? ReadObjectAnyCore(RootBuffer b)
    {
        int beg = b.Displacement;
        int begPos = b.Position;
        uint bcnt = b.ReadUInt32();
        uint tag;
        int end = -1;
        int classStart = 0;
        bool hasCount = (bcnt & ObjectHeader.ByteCountMask) != 0 && bcnt != ObjectHeader.NewClassTag;
        if (hasCount)
        {
            end = begPos + 4 + (int)(bcnt & ~ObjectHeader.ByteCountMask);
            if (end > b.Length) throw b.Context.Error($"corrupt object byte count at offset {begPos}");
            classStart = b.Displacement;
            tag = b.ReadUInt32();
        }
        else
        {
            tag = bcnt;
        }

        if ((tag & ObjectHeader.ClassMask) == 0)
        {
            // Reference to an object already read (or null).
            if (tag == 0 || tag == 1) return null;
            if (b.References.TryGetValue((int)tag, out var known)) return known;
            if (end >= 0) b.Position = end;
            return null;
        }

        string className;
        if (tag == ObjectHeader.NewClassTag)
        {
            className = b.ReadCString();
            b.References[hasCount ? classStart + ObjectHeader.MapOffset : b.References.Count + 1] = new ClassTag(className);
        }
        else
        {
            int classRef = (int)(tag & ~ObjectHeader.ClassMask);
            if (!b.References.TryGetValue(classRef, out var c) || c is not ClassTag ct)
                throw b.Context.Error($"invalid class reference {classRef} at offset {begPos}");
            className = ct.ClassName;
        }

        object obj = Create(className);
        b.References[hasCount ? beg + ObjectHeader.MapOffset : b.References.Count + 1] = obj;
        if (obj is ForeignObject)
        {
            if (end < 0) throw b.Context.Error($"cannot skip object of class {className} without byte count");
            b.Position = end;
            return obj;
        }
        Populate(obj, className, b);
        if (end >= 0) b.Position = end;
        return obj;
    }

    /// <summary>TObjArray streamed as a member (with its own header).</summary>
    public static List<object?> ReadObjArray(RootBuffer b)
    {
        var h = ObjectHeader.Read(b);
        TObjectReader.ReadTObject(b);
        b.ReadTString(); // fName
        int n = b.ReadCount(4, "TObjArray size");
        b.ReadInt32(); // fLowerBound
        var items = new List<object?>(n);
        for (int i = 0; i < n; i++) items.Add(ReadObjectAny(b));
        h.SkipToEnd(b);
        return items;
    }

    /// <summary>TList streamed as a top-level record or member: objects, each followed by an option string.</summary>
    public static List<object?> ReadList(RootBuffer b)
    {
        var h = ObjectHeader.Read(b);
        TObjectReader.ReadTObject(b);
        b.ReadTString(); // fName
        int n = b.ReadCount(4, "TList size");
        var items = new List<object?>(n);
        for (int i = 0; i < n; i++)
        {
            items.Add(ReadObjectAny(b));
            int optLen = b.ReadByte();
            b.Skip(optLen);
        }
        h.SkipToEnd(b);
        return items;
    }

    private static object Create(string className) => className switch
    {
        "TBranch" or "TBranchElement" or "TBranchObject" or "TBranchSTL" => new BranchRecord { ClassName = className },
        "TObjArray" or "TList" or "THashList" => new List<object?>(),
        "TBasket" => new EmbeddedBasket(),
        "TStreamerInfo" => new Streamers.StreamerInfo(),
        _ when className.StartsWith("TLeaf", StringComparison.Ordinal) => new LeafRecord { ClassName = className },
        _ when className.StartsWith("TStreamer", StringComparison.Ordinal) => new Streamers.StreamerElement { ClassName = className },
        _ => new ForeignObject(className),
    };

    private static void Populate(object obj, string className, RootBuffer b)
    {
        switch (obj)
        {
            case BranchRecord br: BranchParser.Read(b, br); break;
            case LeafRecord leaf: LeafParser.Read(b, leaf); break;
            case EmbeddedBasket basket: EmbeddedBasketParser.Read(b, basket); break;
            case Streamers.StreamerInfo si: Streamers.StreamerInfoParser.ReadInfo(b, si); break;
            case Streamers.StreamerElement se: Streamers.StreamerInfoParser.ReadElement(b, se); break;
            case List<object?> list:
                list.AddRange(className == "TObjArray" ? ReadObjArray(b) : ReadList(b));
                break;
            default: throw b.Context.Error($"no reader for class {className}");
        }
    }
}
