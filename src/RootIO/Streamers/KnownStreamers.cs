// KnownStreamers: TStreamerInfo records for the classes a written TTree file contains (TTree,
// TBranch, TBranchElement, the TLeaf family, their bases, the collections and the std::vector
// instantiations). Readers such as ROOT and jsroot use these records to decode the TTree key.
// The table below was produced by reading the records ROOT 6.20/6.14 wrote into the
// scikit-hep test files with this library's own StreamerInfo parser, so checksums and member
// descriptions match what ROOT expects (WriterRoundTripTests reads them back from a written file).
namespace Hep.RootIO.Streamers;

internal static class KnownStreamers
{
    private enum Kind { Base, BasicType, BasicPointer, String, Object, ObjectAny, ObjectPointer, STL }

    /// <summary>The records, in an order where every class appears after the ones it references.</summary>
    public static IReadOnlyList<StreamerInfo> All { get; } = Build();

    public static StreamerInfo Get(string className) =>
        All.FirstOrDefault(s => s.ClassName == className)
        ?? throw new RootFormatException($"no built-in streamer info for class {className}");

    private static StreamerInfo Info(string name, int version, uint checkSum, params StreamerElement[] elements)
    {
        var info = new StreamerInfo { ClassName = name, ClassVersion = version, CheckSum = checkSum };
        info.Elements.AddRange(elements);
        return info;
    }

    private static StreamerElement E(Kind kind, string name, string title, int type, int size, string typeName,
        int baseVersion = 0, int baseCheckSum = 0, string countName = "", string countClass = "", int countVersion = 0,
        int stlType = 0, int cType = 0) => new()
    {
        ClassName = "TStreamer" + kind,
        Version = kind is Kind.Base or Kind.STL ? 3 : 2,
        BaseElementVersion = 4,
        Name = name,
        Title = title,
        Type = type,
        Size = size,
        TypeName = typeName,
        MaxIndex = [0, baseCheckSum, 0, 0, 0],
        BaseVersion = baseVersion,
        CountName = countName,
        CountClass = countClass,
        CountVersion = countVersion,
        StlType = stlType,
        CType = cType,
    };

    // A typed leaf class (TLeafO, TLeafI, …): the TLeaf base, then fMinimum and fMaximum of the leaf's type.
    private static StreamerInfo LeafInfo(string name, uint checkSum, int type, int size, string typeName) =>
        Info(name, 1, checkSum,
            E(Kind.Base, "TLeaf", "Leaf: description of a Branch data type", 0, 0, "BASE", baseVersion: 2, baseCheckSum: 1830715730),
            E(Kind.BasicType, "fMinimum", "Minimum value if leaf range is specified", type, size, typeName),
            E(Kind.BasicType, "fMaximum", "Maximum value if leaf range is specified", type, size, typeName));

    private static List<StreamerInfo> Build() =>
    [
        Info("TObject", 1, 2417737773u,
            E(Kind.BasicType, "fUniqueID", "object unique identifier", 13, 4, "unsigned int"),
            E(Kind.BasicType, "fBits", "bit field status word", 15, 4, "unsigned int")
        ),
        Info("TNamed", 1, 3753331260u,
            E(Kind.Base, "TObject", "Basic ROOT object", 66, 0, "BASE", baseVersion: 1, baseCheckSum: -1877229523),
            E(Kind.String, "fName", "object identifier", 65, 24, "TString"),
            E(Kind.String, "fTitle", "object title", 65, 24, "TString")
        ),
        Info("TAttLine", 2, 2483504457u,
            E(Kind.BasicType, "fLineColor", "Line color", 2, 2, "short"),
            E(Kind.BasicType, "fLineStyle", "Line style", 2, 2, "short"),
            E(Kind.BasicType, "fLineWidth", "Line width", 2, 2, "short")
        ),
        Info("TAttFill", 2, 4292422290u,
            E(Kind.BasicType, "fFillColor", "Fill area color", 2, 2, "short"),
            E(Kind.BasicType, "fFillStyle", "Fill area style", 2, 2, "short")
        ),
        Info("TAttMarker", 2, 689802220u,
            E(Kind.BasicType, "fMarkerColor", "Marker color", 2, 2, "short"),
            E(Kind.BasicType, "fMarkerStyle", "Marker style", 2, 2, "short"),
            E(Kind.BasicType, "fMarkerSize", "Marker size", 5, 4, "float")
        ),
        Info("ROOT::TIOFeatures", 1, 446770960u,
            E(Kind.BasicType, "fIOBits", "", 11, 1, "unsigned char")
        ),
        Info("TTree", 20, 1919213695u,
            E(Kind.Base, "TNamed", "The basis for a named object (name, title)", 67, 0, "BASE", baseVersion: 1, baseCheckSum: -541636036),
            E(Kind.Base, "TAttLine", "Line attributes", 0, 0, "BASE", baseVersion: 2, baseCheckSum: -1811462839),
            E(Kind.Base, "TAttFill", "Fill area attributes", 0, 0, "BASE", baseVersion: 2, baseCheckSum: -2545006),
            E(Kind.Base, "TAttMarker", "Marker attributes", 0, 0, "BASE", baseVersion: 2, baseCheckSum: 689802220),
            E(Kind.BasicType, "fEntries", "Number of entries", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fTotBytes", "Total number of bytes in all branches before compression", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fZipBytes", "Total number of bytes in all branches after compression", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fSavedBytes", "Number of autosaved bytes", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fFlushedBytes", "Number of auto-flushed bytes", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fWeight", "Tree weight (see TTree::SetWeight)", 8, 8, "double"),
            E(Kind.BasicType, "fTimerInterval", "Timer interval in milliseconds", 3, 4, "int"),
            E(Kind.BasicType, "fScanField", "Number of runs before prompting in Scan", 3, 4, "int"),
            E(Kind.BasicType, "fUpdate", "Update frequency for EntryLoop", 3, 4, "int"),
            E(Kind.BasicType, "fDefaultEntryOffsetLen", "Initial Length of fEntryOffset table in the basket buffers", 3, 4, "int"),
            E(Kind.BasicType, "fNClusterRange", "Number of Cluster range in addition to the one defined by 'AutoFlush'", 6, 4, "int"),
            E(Kind.BasicType, "fMaxEntries", "Maximum number of entries in case of circular buffers", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fMaxEntryLoop", "Maximum number of entries to process", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fMaxVirtualSize", "Maximum total size of buffers kept in memory", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fAutoSave", "Autosave tree when fAutoSave entries written or -fAutoSave (compressed) bytes produced", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fAutoFlush", "Auto-flush tree when fAutoFlush entries written or -fAutoFlush (compressed) bytes produced", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fEstimate", "Number of entries to estimate histogram limits", 16, 8, "Long64_t"),
            E(Kind.BasicPointer, "fClusterRangeEnd", "[fNClusterRange] Last entry of a cluster range.", 56, 8, "Long64_t*", countName: "fNClusterRange", countClass: "TTree", countVersion: 20),
            E(Kind.BasicPointer, "fClusterSize", "[fNClusterRange] Number of entries in each cluster for a given range.", 56, 8, "Long64_t*", countName: "fNClusterRange", countClass: "TTree", countVersion: 20),
            E(Kind.ObjectAny, "fIOFeatures", "IO features to define for newly-written baskets and branches.", 62, 1, "ROOT::TIOFeatures"),
            E(Kind.Object, "fBranches", "List of Branches", 61, 64, "TObjArray"),
            E(Kind.Object, "fLeaves", "Direct pointers to individual branch leaves", 61, 64, "TObjArray"),
            E(Kind.ObjectPointer, "fAliases", "List of aliases for expressions based on the tree branches.", 64, 8, "TList*"),
            E(Kind.ObjectAny, "fIndexValues", "Sorted index values", 62, 24, "TArrayD"),
            E(Kind.ObjectAny, "fIndex", "Index of sorted values", 62, 24, "TArrayI"),
            E(Kind.ObjectPointer, "fTreeIndex", "Pointer to the tree Index (if any)", 64, 8, "TVirtualIndex*"),
            E(Kind.ObjectPointer, "fFriends", "pointer to list of friend elements", 64, 8, "TList*"),
            E(Kind.ObjectPointer, "fUserInfo", "pointer to a list of user objects associated to this Tree", 64, 8, "TList*"),
            E(Kind.ObjectPointer, "fBranchRef", "Branch supporting the TRefTable (if any)", 64, 8, "TBranchRef*")
        ),
        Info("TBranch", 13, 278366892u,
            E(Kind.Base, "TNamed", "The basis for a named object (name, title)", 67, 0, "BASE", baseVersion: 1, baseCheckSum: -541636036),
            E(Kind.Base, "TAttFill", "Fill area attributes", 0, 0, "BASE", baseVersion: 2, baseCheckSum: -2545006),
            E(Kind.BasicType, "fCompress", "Compression level and algorithm", 3, 4, "int"),
            E(Kind.BasicType, "fBasketSize", "Initial Size of  Basket Buffer", 3, 4, "int"),
            E(Kind.BasicType, "fEntryOffsetLen", "Initial Length of fEntryOffset table in the basket buffers", 3, 4, "int"),
            E(Kind.BasicType, "fWriteBasket", "Last basket number written", 3, 4, "int"),
            E(Kind.BasicType, "fEntryNumber", "Current entry number (last one filled in this branch)", 16, 8, "Long64_t"),
            E(Kind.ObjectAny, "fIOFeatures", "IO features for newly-created baskets.", 62, 1, "ROOT::TIOFeatures"),
            E(Kind.BasicType, "fOffset", "Offset of this branch", 3, 4, "int"),
            E(Kind.BasicType, "fMaxBaskets", "Maximum number of Baskets so far", 6, 4, "int"),
            E(Kind.BasicType, "fSplitLevel", "Branch split level", 3, 4, "int"),
            E(Kind.BasicType, "fEntries", "Number of entries", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fFirstEntry", "Number of the first entry in this branch", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fTotBytes", "Total number of bytes in all leaves before compression", 16, 8, "Long64_t"),
            E(Kind.BasicType, "fZipBytes", "Total number of bytes in all leaves after compression", 16, 8, "Long64_t"),
            E(Kind.Object, "fBranches", "-> List of Branches of this branch", 61, 64, "TObjArray"),
            E(Kind.Object, "fLeaves", "-> List of leaves of this branch", 61, 64, "TObjArray"),
            E(Kind.Object, "fBaskets", "-> List of baskets of this branch", 61, 64, "TObjArray"),
            E(Kind.BasicPointer, "fBasketBytes", "[fMaxBaskets] Length of baskets on file", 43, 4, "int*", countName: "fMaxBaskets", countClass: "TBranch", countVersion: 13),
            E(Kind.BasicPointer, "fBasketEntry", "[fMaxBaskets] Table of first entry in each basket", 56, 8, "Long64_t*", countName: "fMaxBaskets", countClass: "TBranch", countVersion: 13),
            E(Kind.BasicPointer, "fBasketSeek", "[fMaxBaskets] Addresses of baskets on file", 56, 8, "Long64_t*", countName: "fMaxBaskets", countClass: "TBranch", countVersion: 13),
            E(Kind.String, "fFileName", "Name of file where buffers are stored (\"\" if in same file as Tree header)", 65, 24, "TString")
        ),
        Info("TBranchElement", 10, 3880738403u,
            E(Kind.Base, "TBranch", "Branch descriptor", 0, 0, "BASE", baseVersion: 13, baseCheckSum: 278366892),
            E(Kind.String, "fClassName", "Class name of referenced object", 65, 24, "TString"),
            E(Kind.String, "fParentName", "Name of parent class", 65, 24, "TString"),
            E(Kind.String, "fClonesName", "Name of class in TClonesArray (if any)", 65, 24, "TString"),
            E(Kind.BasicType, "fCheckSum", "CheckSum of class", 13, 4, "unsigned int"),
            E(Kind.BasicType, "fClassVersion", "Version number of class", 2, 2, "short"),
            E(Kind.BasicType, "fID", "element serial number in fInfo", 3, 4, "int"),
            E(Kind.BasicType, "fType", "branch type", 3, 4, "int"),
            E(Kind.BasicType, "fStreamerType", "branch streamer type", 3, 4, "int"),
            E(Kind.BasicType, "fMaximum", "Maximum entries for a TClonesArray or variable array", 3, 4, "int"),
            E(Kind.ObjectPointer, "fBranchCount", "pointer to primary branchcount branch", 64, 8, "TBranchElement*"),
            E(Kind.ObjectPointer, "fBranchCount2", "pointer to secondary branchcount branch", 64, 8, "TBranchElement*")
        ),
        Info("TLeaf", 2, 1830715730u,
            E(Kind.Base, "TNamed", "The basis for a named object (name, title)", 67, 0, "BASE", baseVersion: 1, baseCheckSum: -541636036),
            E(Kind.BasicType, "fLen", "Number of fixed length elements in the leaf's data.", 3, 4, "int"),
            E(Kind.BasicType, "fLenType", "Number of bytes for this data type", 3, 4, "int"),
            E(Kind.BasicType, "fOffset", "Offset in ClonesArray object (if one)", 3, 4, "int"),
            E(Kind.BasicType, "fIsRange", "(=kTRUE if leaf has a range, kFALSE otherwise).  This is equivalent to being a 'leafcount'.  For a TLeafElement the range information is actually store in the TBranchElement.", 18, 1, "bool"),
            E(Kind.BasicType, "fIsUnsigned", "(=kTRUE if unsigned, kFALSE otherwise)", 18, 1, "bool"),
            E(Kind.ObjectPointer, "fLeafCount", "Pointer to Leaf count if variable length (we do not own the counter)", 64, 8, "TLeaf*")
        ),
        Info("TLeafElement", 1, 2689566867u,
            E(Kind.Base, "TLeaf", "Leaf: description of a Branch data type", 0, 0, "BASE", baseVersion: 2, baseCheckSum: 1830715730),
            E(Kind.BasicType, "fID", "element serial number in fInfo", 3, 4, "int"),
            E(Kind.BasicType, "fType", "leaf type", 3, 4, "int")
        ),
        Info("TCollection", 3, 1474546588u,
            E(Kind.Base, "TObject", "Basic ROOT object", 66, 0, "BASE", baseVersion: 1, baseCheckSum: -1877229523),
            E(Kind.String, "fName", "name of the collection", 65, 24, "TString"),
            E(Kind.BasicType, "fSize", "number of elements in collection", 3, 4, "int")
        ),
        Info("TSeqCollection", 0, 4234951622u,
            E(Kind.Base, "TCollection", "Collection abstract base class", 0, 0, "BASE", baseVersion: 3, baseCheckSum: 1474546588)
        ),
        Info("TObjArray", 3, 2845730130u,
            E(Kind.Base, "TSeqCollection", "Sequenceable collection ABC", 0, 0, "BASE", baseVersion: 0, baseCheckSum: -60015674),
            E(Kind.BasicType, "fLowerBound", "Lower bound of the array", 3, 4, "int"),
            E(Kind.BasicType, "fLast", "Last element in array containing an object", 3, 4, "int")
        ),
        Info("TList", 5, 1774568379u,
            E(Kind.Base, "TSeqCollection", "Sequenceable collection ABC", 0, 0, "BASE", baseVersion: 0, baseCheckSum: -60015674)
        ),
        Info("vector<int>", 6, 9976712u,
            E(Kind.STL, "This", "<Int_t> Used to call the proper TStreamerInfo case", 500, 0, "vector<int>", stlType: 1, cType: 3)
        ),
        LeafInfo("TLeafO", 44976339u, 18, 1, "bool"),
        LeafInfo("TLeafI", 2120920601u, 3, 4, "int"),
        LeafInfo("TLeafL", 3727820898u, 16, 8, "Long64_t"),
        LeafInfo("TLeafF", 987602290u, 5, 4, "float"),
        LeafInfo("TLeafD", 294553462u, 8, 8, "double"),
        Info("vector<float>", 6, 89790107u,
            E(Kind.STL, "This", "<Float_t> Used to call the proper TStreamerInfo case", 500, 0, "vector<float>", stlType: 1, cType: 5)
        ),
    ];
}
