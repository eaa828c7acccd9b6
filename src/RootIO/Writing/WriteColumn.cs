// WriteColumn: the values of one branch for a chunk of entries handed to RootTreeWriter.Append:
// a typed array (float[], double[], int[], long[], bool[]) and, for vector branches, per-entry
// offsets (EntryCount + 1 values) into it.
namespace Hep.RootIO.Writing;

public sealed record WriteColumn(Array Values, int[]? Offsets = null)
{
    public static WriteColumn Scalars(Array values) => new(values);

    public static WriteColumn Jagged(Array values, int[] offsets) => new(values, offsets);

    /// <summary>Re-writes a column read with RootTree.ReadColumn (scalar or vector layouts).</summary>
    public static WriteColumn From(ColumnData column) => new(column.Values, column.Offsets);
}
