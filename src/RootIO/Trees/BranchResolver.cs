// BranchResolver: decides each branch's layout and element type from its TBranch/TLeaf objects.
//
//  - TBranch, one TLeafX leaf: Scalar, FixedArray (fLen > 1) or Jagged (fLeafCount set).
//  - TBranch, several leaves: LeafList; each numeric leaf becomes a LeafListMember "branch.leaf".
//  - TBranchElement of class vector<T> / vector<vector<T>> (top level): Vector / VectorOfVector.
//  - Everything else (strings, TObjects, TClonesArray, maps, split classes): Unsupported, with a
//    reason; the branch is still listed so users can see what the file contains.
using Hep.RootIO.Format;

namespace Hep.RootIO.Trees;

internal static class BranchResolver
{
    public static IEnumerable<RootBranch> Resolve(BranchRecord record, string prefix = "")
    {
        string name = record.Name;
        var branch = new RootBranch(record, name);
        var members = new List<RootBranch>();
        if (record.ClassName == "TBranch")
            ResolvePlain(branch, members);
        else if (record.ClassName == "TBranchElement" && record.Branches.Count == 0)
            ResolveElement(branch);
        else
            MarkUnsupported(branch, record.ElementClassName.Length > 0 ? record.ElementClassName : record.ClassName,
                record.Branches.Count > 0 ? "split object branches are not supported" : $"{record.ClassName} objects are not supported");
        yield return branch;
        foreach (var m in members) yield return m;
        foreach (var child in record.Branches)
            foreach (var b in Resolve(child, prefix))
                yield return b;
    }

    private static void ResolvePlain(RootBranch branch, List<RootBranch> members)
    {
        var leaves = branch.Record.Leaves;
        if (leaves.Count == 0)
        {
            MarkUnsupported(branch, "?", "branch has no leaves");
            return;
        }
        if (leaves.Count == 1)
        {
            ResolveLeaf(branch, leaves[0]);
            return;
        }

        // Leaf list: every member occupies fLen values of its type, in order, in each entry.
        branch.Layout = BranchLayout.LeafList;
        int offset = 0;
        var parts = new List<string>();
        var types = new List<(LeafRecord Leaf, RootValueType? Type, int Offset)>();
        foreach (var leaf in leaves)
        {
            var t = RootValueTypes.FromLeafClass(leaf.ClassName, leaf.IsUnsigned);
            types.Add((leaf, t, offset));
            parts.Add($"{leaf.Name}/{leaf.ClassName}");
            if (t is null || leaf.LeafCount is not null)
            {
                offset = -1;
                break;
            }
            offset += t.Value.SizeOf() * Math.Max(leaf.Length, 1);
        }
        branch.TypeName = "leaflist(" + string.Join(":", parts) + ")";
        branch.UnsupportedReason = "leaf-list branch: read its members (" + string.Join(", ", leaves.Select(l => $"{branch.Name}.{l.Name}")) + ")";
        var names = new List<string>();
        foreach (var (leaf, type, off) in types)
        {
            var m = new RootBranch(branch.Record, $"{branch.Name}.{leaf.Name}");
            names.Add(m.Name);
            if (type is null || offset < 0)
            {
                MarkUnsupported(m, leaf.ClassName, "only numeric fixed-size leaf-list members are supported");
            }
            else
            {
                m.Layout = BranchLayout.LeafListMember;
                m.ValueType = type.Value;
                m.FixedLength = Math.Max(leaf.Length, 1);
                m.MemberOffset = off;
                m.EntryStride = offset;
                m.TypeName = m.FixedLength > 1 ? $"{type.Value.CppName()}[{m.FixedLength}]" : type.Value.CppName();
            }
            members.Add(m);
        }
        branch.Members = names;
    }

    private static void ResolveLeaf(RootBranch branch, LeafRecord leaf)
    {
        var t = RootValueTypes.FromLeafClass(leaf.ClassName, leaf.IsUnsigned);
        if (t is null)
        {
            string what = leaf.ClassName == "TLeafC" ? "strings (TLeafC) are not supported" : $"leaf class {leaf.ClassName} is not supported";
            MarkUnsupported(branch, leaf.ClassName, what);
            return;
        }
        branch.ValueType = t.Value;
        branch.FixedLength = Math.Max(leaf.Length, 1);
        string cpp = t.Value.CppName();
        if (leaf.LeafCount is not null)
        {
            branch.Layout = BranchLayout.Jagged;
            branch.CounterBranch = leaf.LeafCount.Name;
            branch.TypeName = branch.FixedLength > 1 ? $"{cpp}[{leaf.LeafCount.Name}][{branch.FixedLength}]" : $"{cpp}[{leaf.LeafCount.Name}]";
        }
        else if (branch.FixedLength > 1)
        {
            branch.Layout = BranchLayout.FixedArray;
            branch.TypeName = $"{cpp}[{branch.FixedLength}]";
        }
        else
        {
            branch.Layout = BranchLayout.Scalar;
            branch.TypeName = cpp;
        }
        branch.EntryStride = t.Value.SizeOf() * branch.FixedLength;
    }

    private static void ResolveElement(RootBranch branch)
    {
        var record = branch.Record;
        string cls = record.ElementClassName.Replace(" ", "");
        branch.TypeName = record.ElementClassName;
        if (record.ElementId >= 0)
        {
            MarkUnsupported(branch, cls, "members of split classes are not supported");
            return;
        }
        string? inner = StripTemplate(cls);
        if (inner is null)
        {
            MarkUnsupported(branch, cls, DescribeUnsupported(cls));
            return;
        }
        string? innermost = StripTemplate(inner);
        var t = RootValueTypes.FromCppName(innermost ?? inner);
        if (t is null)
        {
            MarkUnsupported(branch, cls, $"vector of {innermost ?? inner} is not supported");
            return;
        }
        branch.ValueType = t.Value;
        branch.Layout = innermost is null ? BranchLayout.Vector : BranchLayout.VectorOfVector;
        branch.TypeName = innermost is null ? $"vector<{t.Value.CppName()}>" : $"vector<vector<{t.Value.CppName()}>>";
    }

    /// <summary>"vector&lt;X&gt;" (or RVec) -> "X", else null.</summary>
    private static string? StripTemplate(string cls)
    {
        foreach (var prefix in new[] { "vector<", "std::vector<", "ROOT::VecOps::RVec<", "ROOT::RVec<" })
            if (cls.StartsWith(prefix, StringComparison.Ordinal) && cls.EndsWith('>'))
                return cls[prefix.Length..^1];
        return null;
    }

    private static string DescribeUnsupported(string cls) =>
        cls.Contains("string") ? "strings are not supported"
        : cls.Contains("map<") || cls.Contains("set<") || cls.Contains("list<") ? $"container {cls} is not supported"
        : cls == "TClonesArray" ? "TClonesArray is not supported"
        : $"class {cls} (needs its streamer) is not supported";

    private static void MarkUnsupported(RootBranch b, string type, string reason)
    {
        b.Layout = BranchLayout.Unsupported;
        if (b.TypeName.Length == 0) b.TypeName = type;
        b.UnsupportedReason = reason;
    }
}
