// BranchLayout: how a branch's entries are laid out in its baskets, which decides how it is
// decoded and what shape ColumnData has.
namespace Hep.RootIO.Trees;

public enum BranchLayout
{
    /// <summary>One value per entry.</summary>
    Scalar,

    /// <summary>A fixed number of values per entry (C array "x[10]").</summary>
    FixedArray,

    /// <summary>C-style variable-length array with a counter branch ("x[n]").</summary>
    Jagged,

    /// <summary>std::vector&lt;T&gt;.</summary>
    Vector,

    /// <summary>std::vector&lt;std::vector&lt;T&gt;&gt;.</summary>
    VectorOfVector,

    /// <summary>One numeric member of a leaf-list branch ("x/I:y/F"), named "branch.leaf".</summary>
    LeafListMember,

    /// <summary>A leaf-list branch itself; read its members instead.</summary>
    LeafList,

    /// <summary>A layout this reader does not decode (strings, objects, maps, ...).</summary>
    Unsupported,
}
