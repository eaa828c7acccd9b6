// RootBranch: public description of one readable column of a tree: name, C++-like type name,
// layout, element type, and (for unsupported layouts) the reason it cannot be read.
using Hep.RootIO.Format;

namespace Hep.RootIO.Trees;

public sealed class RootBranch
{
    internal RootBranch(BranchRecord record, string name)
    {
        Record = record;
        Name = name;
    }

    public string Name { get; }

    public string Title => Record.Title;

    /// <summary>ROOT class of the branch object (TBranch, TBranchElement, ...).</summary>
    public string ClassName => Record.ClassName;

    /// <summary>Type as a C++-like string: "float", "int[10]", "float[NJet]", "vector&lt;float&gt;".</summary>
    public string TypeName { get; internal set; } = "";

    public BranchLayout Layout { get; internal set; }

    /// <summary>Element type (meaningless when Layout is Unsupported or LeafList).</summary>
    public RootValueType ValueType { get; internal set; }

    /// <summary>Values per entry for Scalar (1), FixedArray and LeafListMember; per element for Jagged.</summary>
    public int FixedLength { get; internal set; } = 1;

    /// <summary>Counter branch of a C-style jagged array, else null.</summary>
    public string? CounterBranch { get; internal set; }

    /// <summary>Why the branch cannot be read, or null when it can.</summary>
    public string? UnsupportedReason { get; internal set; }

    public bool IsReadable => Layout is not (BranchLayout.Unsupported or BranchLayout.LeafList);

    /// <summary>Members of a leaf-list branch ("branch.leaf" names).</summary>
    public IReadOnlyList<string> Members { get; internal set; } = [];

    public long Entries => Record.Entries;

    public int BasketCount => Record.WriteBasket + Record.EmbeddedBaskets.Count;

    internal BranchRecord Record { get; }

    /// <summary>Leaf-list members: byte offset inside an entry and the entry stride.</summary>
    internal int MemberOffset { get; set; }

    internal int EntryStride { get; set; }

    public override string ToString() => $"{Name}: {TypeName} ({Layout})";
}
