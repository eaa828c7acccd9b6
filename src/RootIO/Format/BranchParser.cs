// BranchParser: TBranch (class versions 10-13), TBranchElement (8-10) and TBranchObject.
//
// Field order per version follows ROOT's TBranch streamer: TNamed, TAttFill, the bookkeeping
// integers, fBranches/fLeaves/fBaskets arrays, then the three per-basket arrays, each preceded
// by a one-byte "speed bump" (1 = array present). Anything after that is skipped by byte count.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal static class BranchParser
{
    public static void Read(RootBuffer b, BranchRecord br)
    {
        var h = ObjectHeader.Read(b);
        if (h.MemberWise) throw b.Context.Error($"member-wise streamed {br.ClassName} is not supported");
        switch (br.ClassName)
        {
            case "TBranch":
                ReadBranchBody(b, br, h.Version);
                break;
            case "TBranchElement":
                ReadBranchBase(b, br);
                br.ElementClassName = b.ReadTString();
                br.ParentName = b.ReadTString();
                br.ClonesName = b.ReadTString();
                br.CheckSum = b.ReadUInt32();
                br.ClassVersion = h.Version >= 10 ? b.ReadInt16() : b.ReadInt32();
                br.ElementId = b.ReadInt32();
                br.ElementType = b.ReadInt32();
                br.StreamerType = b.ReadInt32();
                br.Maximum = b.ReadInt32();
                br.BranchCount = ObjectReader.ReadObjectAny(b) as BranchRecord;
                ObjectReader.ReadObjectAny(b); // fBranchCount2
                break;
            default: // TBranchObject, TBranchSTL: keep the base so the branch can be listed.
                ReadBranchBase(b, br);
                if (br.ClassName == "TBranchObject") br.ElementClassName = b.ReadTString();
                break;
        }
        h.SkipToEnd(b);
    }

    private static void ReadBranchBase(RootBuffer b, BranchRecord br)
    {
        var h = ObjectHeader.Read(b);
        ReadBranchBody(b, br, h.Version);
        h.SkipToEnd(b);
    }

    private static void ReadBranchBody(RootBuffer b, BranchRecord br, int version)
    {
        if (version < 10 || version > 13)
            throw b.Context.Error($"unsupported TBranch class version {version}");
        (br.Name, br.Title) = TObjectReader.ReadTNamed(b);
        b.Context = b.Context.WithBranch(br.Name);
        ObjectHeader.Skip(b, "TAttFill");
        br.Compress = b.ReadInt32();
        br.BasketSize = b.ReadInt32();
        br.EntryOffsetLength = b.ReadInt32();
        br.WriteBasket = b.ReadInt32();
        br.EntryNumber = b.ReadInt64();
        if (version >= 13) ObjectHeader.Skip(b, "TIOFeatures");
        b.ReadInt32(); // fOffset
        br.MaxBaskets = b.ReadInt32();
        br.SplitLevel = b.ReadInt32();
        br.Entries = b.ReadInt64();
        if (version >= 11) br.FirstEntry = b.ReadInt64();
        br.TotalBytes = b.ReadInt64();
        br.ZipBytes = b.ReadInt64();
        if (br.MaxBaskets < 0 || br.WriteBasket < 0 || br.WriteBasket > br.MaxBaskets || br.Entries < 0)
            throw b.Context.Error($"corrupt basket bookkeeping (fMaxBaskets={br.MaxBaskets}, fWriteBasket={br.WriteBasket})");

        foreach (var o in ObjectReader.ReadObjArray(b))
            if (o is BranchRecord child) br.Branches.Add(child);
        foreach (var o in ObjectReader.ReadObjArray(b))
            if (o is LeafRecord leaf) br.Leaves.Add(leaf);
        foreach (var o in ObjectReader.ReadObjArray(b))
            if (o is EmbeddedBasket basket) br.EmbeddedBaskets.Add(basket);

        int n = br.MaxBaskets;
        br.BasketBytes = b.ReadByte() != 0 ? b.ReadInt32Array(n) : new int[n];
        br.BasketEntry = b.ReadByte() != 0 ? b.ReadInt64Array(n) : new long[n];
        br.BasketSeek = b.ReadByte() != 0 ? b.ReadInt64Array(n) : new long[n];
    }
}
