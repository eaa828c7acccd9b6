// ColumnData: the values of one branch over an entry range, in columnar form.
//
//  - Scalar / LeafListMember / FixedArray: Values holds EntryCount * FixedLength values; Offsets null.
//  - Jagged / Vector: Values holds all elements; Offsets[i]..Offsets[i+1] are entry i's elements.
//  - VectorOfVector: Offsets[i]..Offsets[i+1] index InnerOffsets (entry i's inner vectors), and
//    InnerOffsets[j]..InnerOffsets[j+1] index Values.
// Values is a typed array (float[], int[], bool[], ...) matching ValueType.
using Hep.RootIO.Trees;

namespace Hep.RootIO;

public sealed class ColumnData
{
    internal ColumnData(string branch, BranchLayout layout, RootValueType type, long entryStart, int entryCount,
        Array values, int fixedLength, int[]? offsets, int[]? innerOffsets)
    {
        Branch = branch;
        Layout = layout;
        ValueType = type;
        EntryStart = entryStart;
        EntryCount = entryCount;
        Values = values;
        FixedLength = fixedLength;
        Offsets = offsets;
        InnerOffsets = innerOffsets;
    }

    public string Branch { get; }
    public BranchLayout Layout { get; }
    public RootValueType ValueType { get; }
    public long EntryStart { get; }
    public int EntryCount { get; }

    /// <summary>Flat values, a T[] with T = ValueType.ClrType().</summary>
    public Array Values { get; }

    /// <summary>Values per entry for fixed layouts (1 for scalars).</summary>
    public int FixedLength { get; }

    public int[]? Offsets { get; }
    public int[]? InnerOffsets { get; }

    public bool IsJagged => Offsets is not null;

    /// <summary>The values as T[]; T must be the CLR type of ValueType.</summary>
    public T[] GetValues<T>() => Values as T[]
        ?? throw new InvalidCastException($"branch '{Branch}' holds {ValueType} values ({Values.GetType().Name}), not {typeof(T).Name}[]");

    /// <summary>Value i of the flat array, converted to double.</summary>
    public double GetDouble(int index) => Values switch
    {
        float[] f => f[index],
        double[] d => d[index],
        int[] i => i[index],
        long[] l => l[index],
        bool[] b => b[index] ? 1 : 0,
        sbyte[] sb => sb[index],
        byte[] ub => ub[index],
        short[] s => s[index],
        ushort[] us => us[index],
        uint[] ui => ui[index],
        ulong[] ul => ul[index],
        _ => throw new InvalidOperationException($"unexpected value array {Values.GetType().Name}"),
    };

    /// <summary>Range [start, stop) of flat values belonging to entry i (all layouts).</summary>
    public (int Start, int Stop) EntryRange(int entry)
    {
        if (Offsets is null) return (entry * FixedLength, (entry + 1) * FixedLength);
        if (InnerOffsets is null) return (Offsets[entry], Offsets[entry + 1]);
        return (InnerOffsets[Offsets[entry]], InnerOffsets[Offsets[entry + 1]]);
    }

    /// <summary>Sum of all values as double (handy for checks).</summary>
    public double Sum()
    {
        double s = 0;
        for (int i = 0; i < Values.Length; i++) s += GetDouble(i);
        return s;
    }
}
