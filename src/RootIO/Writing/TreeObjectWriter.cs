// TreeObjectWriter: serializes the TTree object (class version 20) with its TBranch (v13) /
// TBranchElement (v10) branches and TLeaf* / TLeafElement leaves, member by member in the order
// of the StreamerInfo records in KnownStreamers (which readers use to decode it).
using Hep.RootIO.Internal;

namespace Hep.RootIO.Writing;

internal static class TreeObjectWriter
{
    public static void Write(RootWriteBuffer w, string name, string title, long entries, IReadOnlyList<BranchWriter> branches)
    {
        int tree = w.BeginObject(20);
        w.WriteTNamed(name, title);
        WriteAttLine(w);
        WriteAttFill(w, 0, 1001);
        WriteAttMarker(w);
        w.WriteInt64(entries);
        w.WriteInt64(branches.Sum(b => b.TotalBytes)); // fTotBytes
        w.WriteInt64(branches.Sum(b => b.ZipBytes)); // fZipBytes
        w.WriteInt64(0); // fSavedBytes
        w.WriteInt64(0); // fFlushedBytes
        w.WriteDouble(1); // fWeight
        w.WriteInt32(0); // fTimerInterval
        w.WriteInt32(25); // fScanField
        w.WriteInt32(0); // fUpdate
        w.WriteInt32(1000); // fDefaultEntryOffsetLen
        w.WriteInt32(0); // fNClusterRange
        w.WriteInt64(1_000_000_000_000); // fMaxEntries
        w.WriteInt64(1_000_000_000_000); // fMaxEntryLoop
        w.WriteInt64(0); // fMaxVirtualSize
        w.WriteInt64(-300_000_000); // fAutoSave
        w.WriteInt64(-30_000_000); // fAutoFlush
        w.WriteInt64(1_000_000); // fEstimate
        w.WriteByte(0); // fClusterRangeEnd (empty)
        w.WriteByte(0); // fClusterSize (empty)
        WriteIOFeatures(w);
        WriteObjArray(w, branches, (b, br) => b.WriteObjectAny(br, br.Spec.IsVector ? "TBranchElement" : "TBranch", x => WriteBranch(x, br, name)));
        WriteObjArray(w, branches, (b, br) => WriteLeafPointer(b, br));
        w.WriteUInt32(0); // fAliases
        w.WriteInt32(0); // fIndexValues (TArrayD, empty)
        w.WriteInt32(0); // fIndex (TArrayI, empty)
        w.WriteUInt32(0); // fTreeIndex
        w.WriteUInt32(0); // fFriends
        w.WriteUInt32(0); // fUserInfo
        w.WriteUInt32(0); // fBranchRef
        w.EndObject(tree);
    }

    private static void WriteBranch(RootWriteBuffer w, BranchWriter br, string treeName)
    {
        if (!br.Spec.IsVector)
        {
            WriteBranchBase(w, br, $"{br.Spec.Name}/{br.Spec.RootNames.Letter}", entryOffsetLen: 0, splitLevel: 0);
            return;
        }
        string cls = br.Spec.RootNames.VectorClass;
        int at = w.BeginObject(10);
        WriteBranchBase(w, br, br.Spec.Name, entryOffsetLen: 40, splitLevel: 99);
        w.WriteTString(cls); // fClassName
        w.WriteTString(""); // fParentName
        w.WriteTString(""); // fClonesName
        w.WriteUInt32(Streamers.KnownStreamers.Get(cls).CheckSum);
        w.WriteInt16(6); // fClassVersion of std::vector
        w.WriteInt32(-1); // fID
        w.WriteInt32(0); // fType
        w.WriteInt32(-1); // fStreamerType
        w.WriteInt32(0); // fMaximum
        w.WriteUInt32(0); // fBranchCount
        w.WriteUInt32(0); // fBranchCount2
        w.EndObject(at);
    }

    private static void WriteBranchBase(RootWriteBuffer w, BranchWriter br, string title, int entryOffsetLen, int splitLevel)
    {
        int nBaskets = br.BasketSeek.Count;
        int maxBaskets = Math.Max(10, nBaskets + 1);
        int at = w.BeginObject(13);
        w.WriteTNamed(br.Spec.Name, title);
        WriteAttFill(w, 0, 1001);
        w.WriteInt32(101); // fCompress (zlib)
        w.WriteInt32(32000); // fBasketSize
        w.WriteInt32(entryOffsetLen);
        w.WriteInt32(nBaskets); // fWriteBasket
        w.WriteInt64(br.Entries); // fEntryNumber
        WriteIOFeatures(w);
        w.WriteInt32(0); // fOffset
        w.WriteInt32(maxBaskets);
        w.WriteInt32(splitLevel);
        w.WriteInt64(br.Entries);
        w.WriteInt64(0); // fFirstEntry
        w.WriteInt64(br.TotalBytes);
        w.WriteInt64(br.ZipBytes);
        WriteObjArray<BranchWriter>(w, [], (_, _) => { }); // fBranches
        WriteObjArray(w, [br], (b, x) => WriteLeafPointer(b, x)); // fLeaves
        WriteObjArray<BranchWriter>(w, [], (_, _) => { }); // fBaskets
        w.WriteByte(1);
        for (int i = 0; i < maxBaskets; i++) w.WriteInt32(i < nBaskets ? br.BasketBytes[i] : 0);
        w.WriteByte(1);
        for (int i = 0; i < maxBaskets; i++) w.WriteInt64(i < br.BasketEntry.Count ? br.BasketEntry[i] : 0);
        w.WriteByte(1);
        for (int i = 0; i < maxBaskets; i++) w.WriteInt64(i < nBaskets ? br.BasketSeek[i] : 0);
        w.WriteTString(""); // fFileName
        w.EndObject(at);
    }

    private static void WriteLeafPointer(RootWriteBuffer w, BranchWriter br)
    {
        var spec = br.Spec;
        string cls = spec.IsVector ? "TLeafElement" : spec.RootNames.LeafClass;
        w.WriteObjectAny(br.Leaf, cls, b =>
        {
            int at = b.BeginObject(1);
            int leaf = b.BeginObject(2);
            b.WriteTNamed(spec.Name, spec.Name);
            b.WriteInt32(1); // fLen
            b.WriteInt32(spec.IsVector ? 0 : spec.Type.SizeOf()); // fLenType
            b.WriteInt32(0); // fOffset
            b.WriteBool(false); // fIsRange
            b.WriteBool(false); // fIsUnsigned
            b.WriteUInt32(0); // fLeafCount
            b.EndObject(leaf);
            if (spec.IsVector)
            {
                b.WriteInt32(-1); // fID
                b.WriteInt32(-1); // fType
            }
            else
            {
                WriteMinMax(b, spec.Type);
            }
            b.EndObject(at);
        });
    }

    private static void WriteMinMax(RootWriteBuffer w, RootValueType type)
    {
        for (int i = 0; i < 2; i++)
        {
            switch (type)
            {
                case RootValueType.Float32: w.WriteSingle(0); break;
                case RootValueType.Float64: w.WriteDouble(0); break;
                case RootValueType.Int32: w.WriteInt32(0); break;
                case RootValueType.Int64: w.WriteInt64(0); break;
                default: w.WriteBool(false); break;
            }
        }
    }

    private static void WriteObjArray<T>(RootWriteBuffer w, IReadOnlyList<T> items, Action<RootWriteBuffer, T> writeItem)
    {
        int at = w.BeginObject(3);
        w.WriteTObject();
        w.WriteTString("");
        w.WriteInt32(items.Count);
        w.WriteInt32(0); // fLowerBound
        foreach (var item in items) writeItem(w, item);
        w.EndObject(at);
    }

    private static void WriteIOFeatures(RootWriteBuffer w)
    {
        int at = w.BeginObject(1);
        w.WriteByte(0);
        w.EndObject(at);
    }

    private static void WriteAttLine(RootWriteBuffer w)
    {
        int at = w.BeginObject(2);
        w.WriteInt16(602);
        w.WriteInt16(1);
        w.WriteInt16(1);
        w.EndObject(at);
    }

    private static void WriteAttFill(RootWriteBuffer w, short color, short style)
    {
        int at = w.BeginObject(2);
        w.WriteInt16(color);
        w.WriteInt16(style);
        w.EndObject(at);
    }

    private static void WriteAttMarker(RootWriteBuffer w)
    {
        int at = w.BeginObject(2);
        w.WriteInt16(1);
        w.WriteInt16(1);
        w.WriteSingle(1);
        w.EndObject(at);
    }
}
