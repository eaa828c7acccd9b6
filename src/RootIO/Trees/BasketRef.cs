// BasketRef: where one basket of a branch lives (a key on disk, or embedded in the TTree) and
// which entries it holds.
namespace Hep.RootIO.Trees;

internal sealed record BasketRef(int Index, long FirstEntry, long EntryStop, long Seek, int Bytes, Format.EmbeddedBasket? Embedded)
{
    public bool Overlaps(long start, long stop) => FirstEntry < stop && EntryStop > start;
}
