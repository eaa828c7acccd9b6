// BasketLoader: lists a branch's baskets and reads/decompresses one into a BasketPayload.
//
// On-disk basket = TKey header (with the TBasket fields fVersion, fBufferSize, fNevBufSize,
// fNevBuf, fLast at its end) + compressed payload. After decompression the first
// fLast - fKeylen bytes are data; what follows, if anything, is the entry-offset array
// (int32 length, then absolute offsets that include fKeylen).
using System.Buffers.Binary;
using Hep.RootIO.Format;
using Hep.RootIO.Internal;

namespace Hep.RootIO.Trees;

internal static class BasketLoader
{
    public static List<BasketRef> List(BranchRecord br, ReadContext ctx)
    {
        var refs = new List<BasketRef>();
        long prevStop = 0;
        for (int i = 0; i < br.WriteBasket; i++)
        {
            if (i + 1 >= br.BasketEntry.Length) throw ctx.Error($"basket {i} has no entry range");
            long first = br.BasketEntry[i], stop = br.BasketEntry[i + 1];
            if (first < prevStop || stop < first || stop > br.Entries)
                throw ctx.Error($"corrupt basket entry table at basket {i} ({first}..{stop}, branch has {br.Entries} entries)");
            if (br.BasketBytes[i] <= 0 || br.BasketSeek[i] <= 0)
                throw ctx.Error($"corrupt basket {i} location (seek {br.BasketSeek[i]}, {br.BasketBytes[i]} bytes)");
            refs.Add(new BasketRef(i, first, stop, br.BasketSeek[i], br.BasketBytes[i], null));
            prevStop = stop;
        }
        long next = br.WriteBasket < br.BasketEntry.Length ? br.BasketEntry[br.WriteBasket] : prevStop;
        if (br.WriteBasket == 0) next = 0;
        foreach (var e in br.EmbeddedBaskets)
        {
            if (e.EntryCount == 0) continue;
            refs.Add(new BasketRef(refs.Count, next, next + e.EntryCount, 0, 0, e));
            next += e.EntryCount;
        }
        return refs;
    }

    public static BasketPayload Load(Internal.FileSource source, BasketRef r, ReadContext ctx)
    {
        if (r.Embedded is { } e)
        {
            ValidateOffsets(e.Offsets, e.EntryCount, e.Data.Length, ctx);
            return new BasketPayload
            {
                FirstEntry = r.FirstEntry, EntryCount = e.EntryCount, Buffer = e.Data, DataStart = 0,
                DataLength = e.Data.Length, Offsets = e.Offsets, UncompressedBytes = e.Data.Length,
            };
        }

        byte[] raw = source.Read(r.Seek, r.Bytes, ctx);
        var b = new RootBuffer(raw, ctx);
        var key = KeyHeader.Read(b);
        if (key.Nbytes > raw.Length || key.KeyLen < 19)
            throw ctx.Error($"corrupt basket {r.Index} key (Nbytes={key.Nbytes}, fBasketBytes={r.Bytes})");
        b.Position = key.KeyLen - 19;
        b.ReadUInt16(); // fVersion
        b.ReadInt32(); // fBufferSize
        b.ReadInt32(); // fNevBufSize
        int nevBuf = b.ReadInt32();
        int last = b.ReadInt32();
        int border = last - key.KeyLen;
        long expected = r.EntryStop - r.FirstEntry;
        if (nevBuf != expected || border < 0 || border > key.ObjLen)
            throw ctx.Error($"corrupt basket {r.Index} header (fNevBuf={nevBuf}, expected {expected}; fLast={last}, fObjlen={key.ObjLen})");

        byte[] payload = RootFile.Decompress(key, raw, ctx);
        int[]? offsets = null;
        if (border < payload.Length)
        {
            int count = payload.Length - border >= 4 ? BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(border)) : -1;
            if (count < nevBuf || border + 4 + 4L * nevBuf > payload.Length)
                throw ctx.Error($"corrupt entry offsets in basket {r.Index}");
            offsets = new int[nevBuf + 1];
            var src = payload.AsSpan(border + 4, 4 * nevBuf);
            for (int i = 0; i < nevBuf; i++) offsets[i] = BinaryPrimitives.ReadInt32BigEndian(src[(4 * i)..]) - key.KeyLen;
            offsets[nevBuf] = border;
            ValidateOffsets(offsets, nevBuf, border, ctx);
        }
        return new BasketPayload
        {
            FirstEntry = r.FirstEntry, EntryCount = nevBuf, Buffer = payload, DataStart = 0,
            DataLength = border, Offsets = offsets, UncompressedBytes = payload.Length,
        };
    }

    private static void ValidateOffsets(int[]? offsets, int n, int dataLength, ReadContext ctx)
    {
        if (offsets is null) return;
        if (offsets.Length != n + 1) throw ctx.Error("entry offset table has the wrong length");
        int prev = 0;
        for (int i = 0; i <= n; i++)
        {
            int o = offsets[i];
            if (o < prev || o > dataLength) throw ctx.Error($"corrupt entry offset {o} for entry {i} (data has {dataLength} bytes)");
            prev = o;
        }
    }
}
