// TreeParser: the TTree object (class versions 16-20). Reads TNamed, skips the TAtt* bases,
// reads the version-dependent scalar block (we keep fEntries), the cluster arrays (v19+), the
// TIOFeatures (v20), then fBranches and fLeaves; aliases, indices and friends are skipped.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal static class TreeParser
{
    public static TreeRecord Read(RootBuffer b)
    {
        var h = ObjectHeader.Read(b);
        if (h.Version < 16 || h.Version > 20)
            throw b.Context.Error($"unsupported TTree class version {h.Version} (supported: 16-20)");
        var tree = new TreeRecord { Version = h.Version };
        (tree.Name, tree.Title) = TObjectReader.ReadTNamed(b);
        ObjectHeader.Skip(b, "TAttLine");
        ObjectHeader.Skip(b, "TAttFill");
        ObjectHeader.Skip(b, "TAttMarker");

        tree.Entries = b.ReadInt64();
        b.Skip(8 * 3); // fTotBytes, fZipBytes, fSavedBytes
        if (h.Version >= 18) b.Skip(8); // fFlushedBytes
        b.Skip(8 + 4 * 3); // fWeight, fTimerInterval, fScanField, fUpdate
        if (h.Version >= 17) b.Skip(4); // fDefaultEntryOffsetLen
        int nClusterRange = h.Version >= 19 ? b.ReadInt32() : 0;
        b.Skip(8 * 4); // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave
        if (h.Version >= 18) b.Skip(8); // fAutoFlush
        b.Skip(8); // fEstimate
        if (h.Version >= 19)
        {
            b.CheckCount(nClusterRange, 8, "cluster range");
            if (b.ReadByte() != 0) b.Skip(8 * nClusterRange);
            if (b.ReadByte() != 0) b.Skip(8 * nClusterRange);
        }
        if (h.Version >= 20) ObjectHeader.Skip(b, "TIOFeatures");
        if (tree.Entries < 0) throw b.Context.Error($"corrupt entry count {tree.Entries}");

        foreach (var o in ObjectReader.ReadObjArray(b))
            if (o is BranchRecord br) tree.Branches.Add(br);
        h.SkipToEnd(b);
        return tree;
    }
}
