// StreamerInfoWriter: serializes a list of StreamerInfo records as the file's "StreamerInfo"
// TList, exactly mirroring StreamerInfoParser: TList (v5) of TStreamerInfo (v9), each holding a
// TObjArray (v3) of TStreamerElement subclasses (element base v4).
using Hep.RootIO.Internal;

namespace Hep.RootIO.Streamers;

internal static class StreamerInfoWriter
{
    public static void WriteList(RootWriteBuffer w, IReadOnlyList<StreamerInfo> infos)
    {
        int at = w.BeginObject(5);
        w.WriteTObject();
        w.WriteTString("");
        w.WriteInt32(infos.Count);
        foreach (var info in infos)
        {
            w.WriteObjectAny(info, "TStreamerInfo", b => WriteInfo(b, info));
            w.WriteByte(0); // option string
        }
        w.EndObject(at);
    }

    private static void WriteInfo(RootWriteBuffer w, StreamerInfo info)
    {
        int at = w.BeginObject(9);
        w.WriteTNamed(info.ClassName, info.Title);
        w.WriteUInt32(info.CheckSum);
        w.WriteInt32(info.ClassVersion);
        w.WriteObjectAny(info.Elements, "TObjArray", b =>
        {
            int arr = b.BeginObject(3);
            b.WriteTObject();
            b.WriteTString("");
            b.WriteInt32(info.Elements.Count);
            b.WriteInt32(0); // fLowerBound
            foreach (var e in info.Elements) b.WriteObjectAny(e, e.ClassName, x => WriteElement(x, e));
            b.EndObject(arr);
        });
        w.EndObject(at);
    }

    private static void WriteElement(RootWriteBuffer w, StreamerElement e)
    {
        int at = w.BeginObject((short)e.Version);
        int baseAt = w.BeginObject((short)e.BaseElementVersion);
        w.WriteTNamed(e.Name, e.Title);
        w.WriteInt32(e.Type);
        w.WriteInt32(e.Size);
        w.WriteInt32(e.ArrayLength);
        w.WriteInt32(e.ArrayDim);
        for (int i = 0; i < 5; i++) w.WriteInt32(i < e.MaxIndex.Length ? e.MaxIndex[i] : 0);
        w.WriteTString(e.TypeName);
        w.EndObject(baseAt);
        switch (e.ClassName)
        {
            case "TStreamerBase":
                w.WriteInt32(e.BaseVersion);
                break;
            case "TStreamerBasicPointer":
            case "TStreamerLoop":
                w.WriteInt32(e.CountVersion);
                w.WriteTString(e.CountName);
                w.WriteTString(e.CountClass);
                break;
            case "TStreamerSTL":
                w.WriteInt32(e.StlType);
                w.WriteInt32(e.CType);
                break;
        }
        w.EndObject(at);
    }
}
