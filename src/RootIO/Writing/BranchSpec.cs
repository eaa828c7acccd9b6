// BranchSpec: declares one branch of a tree to be written: a scalar (float, double, int32,
// int64, bool) or a std::vector (float or int) per entry.
namespace Hep.RootIO.Writing;

public sealed record BranchSpec(string Name, RootValueType Type, bool IsVector)
{
    public static BranchSpec Scalar(string name, RootValueType type) => new(name, type, false);

    public static BranchSpec Vector(string name, RootValueType type) => new(name, type, true);

    internal void Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name.Contains('/') || Name.Contains(';'))
            throw new ArgumentException($"invalid branch name '{Name}'");
        bool ok = IsVector
            ? Type is RootValueType.Float32 or RootValueType.Int32
            : Type is RootValueType.Float32 or RootValueType.Float64 or RootValueType.Int32 or RootValueType.Int64 or RootValueType.Bool;
        if (!ok)
            throw new ArgumentException(IsVector
                ? $"branch '{Name}': only vector<float> and vector<int> can be written, not vector<{Type.CppName()}>"
                : $"branch '{Name}': scalar type {Type} cannot be written (float, double, int32, int64, bool)");
    }

    /// <summary>Leaf class, leaf-type letter of the title and the C++ class of vector branches.</summary>
    internal (string LeafClass, char Letter, string VectorClass) RootNames => Type switch
    {
        RootValueType.Float32 => ("TLeafF", 'F', "vector<float>"),
        RootValueType.Float64 => ("TLeafD", 'D', ""),
        RootValueType.Int32 => ("TLeafI", 'I', "vector<int>"),
        RootValueType.Int64 => ("TLeafL", 'L', ""),
        _ => ("TLeafO", 'O', ""),
    };
}
