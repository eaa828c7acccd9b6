// ColumnConcat: joins ColumnData pieces of the same branch (consecutive entry ranges or files)
// into one, shifting offsets; used by datasets and by callers that read in chunks.
namespace Hep.RootIO.Trees;

public static class ColumnConcat
{
    public static ColumnData Concat(IReadOnlyList<ColumnData> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate");
        var first = parts[0];
        foreach (var p in parts)
            if (p.ValueType != first.ValueType || p.Layout != first.Layout || p.FixedLength != first.FixedLength)
                throw new ArgumentException($"cannot concatenate {p.Branch} ({p.Layout} {p.ValueType}) with {first.Branch} ({first.Layout} {first.ValueType})");
        int size = first.ValueType.SizeOf();
        int total = checked(parts.Sum(p => p.Values.Length));
        var values = RootValueTypes.Allocate(first.ValueType, total);
        int entries = checked(parts.Sum(p => p.EntryCount));
        int w = 0;
        foreach (var p in parts)
        {
            Buffer.BlockCopy(p.Values, 0, values, w * size, p.Values.Length * size);
            w += p.Values.Length;
        }
        int[]? offsets = null, inner = null;
        if (first.Offsets is not null && first.InnerOffsets is null)
            offsets = JoinOffsets(parts.Select(p => p.Offsets!), entries);
        else if (first.InnerOffsets is not null)
        {
            offsets = JoinOffsets(parts.Select(p => p.Offsets!), entries);
            inner = JoinOffsets(parts.Select(p => p.InnerOffsets!), parts.Sum(p => p.InnerOffsets!.Length - 1));
        }
        return new ColumnData(first.Branch, first.Layout, first.ValueType, first.EntryStart, entries, values, first.FixedLength, offsets, inner);
    }

    private static int[] JoinOffsets(IEnumerable<int[]> pieces, int count)
    {
        var result = new int[count + 1];
        int w = 0, shift = 0;
        foreach (var o in pieces)
        {
            for (int i = 1; i < o.Length; i++) result[++w] = o[i] + shift;
            shift += o[^1];
        }
        return result;
    }
}
