// TreeChunk: the columns of several branches over one entry range, as produced by chunked
// iteration over a tree or a dataset.
namespace Hep.RootIO.Trees;

public sealed record TreeChunk(long EntryStart, int EntryCount, IReadOnlyDictionary<string, ColumnData> Columns)
{
    /// <summary>Source file, set by multi-file datasets.</summary>
    public string? FilePath { get; init; }

    public ColumnData this[string branch] => Columns[branch];
}
