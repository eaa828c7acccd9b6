// StreamerInfoParser: reads TStreamerInfo and TStreamerElement records (the file's "StreamerInfo"
// TList). These classes have fixed, bootstrapped layouts: TNamed + a few integers per element.
using Hep.RootIO.Format;
using Hep.RootIO.Internal;

namespace Hep.RootIO.Streamers;

internal static class StreamerInfoParser
{
    public static void ReadInfo(RootBuffer b, StreamerInfo info)
    {
        var h = ObjectHeader.Read(b);
        info.Version = h.Version;
        (info.ClassName, info.Title) = TObjectReader.ReadTNamed(b);
        info.CheckSum = b.ReadUInt32();
        info.ClassVersion = b.ReadInt32();
        if (ObjectReader.ReadObjectAny(b) is List<object?> elements)
            foreach (var e in elements)
                if (e is StreamerElement se) info.Elements.Add(se);
        h.SkipToEnd(b);
    }

    public static void ReadElement(RootBuffer b, StreamerElement e)
    {
        var h = ObjectHeader.Read(b);
        e.Version = h.Version;
        ObjectHeader? stlHeader = e.ClassName == "TStreamerSTLstring" ? ObjectHeader.Read(b) : null;
        var bh = ObjectHeader.Read(b);
        e.BaseElementVersion = bh.Version;
        (e.Name, e.Title) = TObjectReader.ReadTNamed(b);
        e.Type = b.ReadInt32();
        e.Size = b.ReadInt32();
        e.ArrayLength = b.ReadInt32();
        e.ArrayDim = b.ReadInt32();
        int nMax = 5;
        if (bh.Version == 1) nMax = b.ReadCount(4, "fMaxIndex");
        e.MaxIndex = b.ReadInt32Array(nMax);
        e.TypeName = b.ReadTString();
        bh.SkipToEnd(b);

        switch (e.ClassName)
        {
            case "TStreamerBase":
                if (h.Version >= 2) e.BaseVersion = b.ReadInt32();
                break;
            case "TStreamerBasicPointer":
            case "TStreamerLoop":
                e.CountVersion = b.ReadInt32();
                e.CountName = b.ReadTString();
                e.CountClass = b.ReadTString();
                break;
            case "TStreamerSTL":
            case "TStreamerSTLstring":
                e.StlType = b.ReadInt32();
                e.CType = b.ReadInt32();
                break;
        }
        stlHeader?.SkipToEnd(b);
        h.SkipToEnd(b);
    }
}
