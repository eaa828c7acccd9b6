// BasketLoader: lists a branch's baskets and reads/decompresses one into a BasketPayload.
//
// On-disk basket = TKey header (with the TBasket fields fVersion, fBufferSize, fNevBufSize,
// fNevBuf, fLast at its end) + compressed payload. After decompression the first
// fLast - fKeylen bytes are data; what follows, if anything, is the entry-offset array
// (int32 length, then absolute offsets that include fKeylen).
using System.Buffers.Binary;
using Hep.RootIO.Compression;
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

        // Rent the read buffer (and the decompression target) so that streaming many baskets
        // does not churn the large-object heap; callers Release() the payload after use.
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        byte[] raw = pool.Rent(r.Bytes);
        bool keepRaw = false;
        try
        {
            source.Read(r.Seek, raw.AsSpan(0, r.Bytes), ctx);
            var b = new RootBuffer(raw, 0, r.Bytes, 0, ctx);
            var key = KeyHeader.Read(b);
            if (key.Nbytes > r.Bytes || key.KeyLen < 19)
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

            byte[] payload;
            int start;
            if (key.IsCompressed)
            {
                if (key.ObjLen > (long)(key.Nbytes - key.KeyLen) * 2000 + 1024)
                    throw ctx.Error($"implausible uncompressed size {key.ObjLen} for basket {r.Index}");
                payload = pool.Rent(key.ObjLen);
                start = 0;
                try
                {
                    RootDecompressor.Decompress(raw, key.KeyLen, key.Nbytes - key.KeyLen, payload.AsSpan(0, key.ObjLen), ctx);
                }
                catch
                {
                    pool.Return(payload);
                    throw;
                }
            }
            else
            {
                payload = raw;
                start = key.KeyLen;
                keepRaw = true;
            }
            var body = payload.AsSpan(start, key.ObjLen);
            int[]? offsets = null;
            if (border < key.ObjLen)
            {
                int count = key.ObjLen - border >= 4 ? BinaryPrimitives.ReadInt32BigEndian(body[border..]) : -1;
                if (count < nevBuf || border + 4 + 4L * nevBuf > key.ObjLen)
                {
                    if (!keepRaw) pool.Return(payload);
                    throw ctx.Error($"corrupt entry offsets in basket {r.Index}");
                }
                offsets = new int[nevBuf + 1];
                var src = body.Slice(border + 4, 4 * nevBuf);
                for (int i = 0; i < nevBuf; i++) offsets[i] = BinaryPrimitives.ReadInt32BigEndian(src[(4 * i)..]) - key.KeyLen;
                offsets[nevBuf] = border;
                try
                {
                    ValidateOffsets(offsets, nevBuf, border, ctx);
                }
                catch
                {
                    if (!keepRaw) pool.Return(payload);
                    throw;
                }
            }
            return new BasketPayload
            {
                FirstEntry = r.FirstEntry, EntryCount = nevBuf, Buffer = payload, DataStart = start,
                DataLength = border, Offsets = offsets, UncompressedBytes = key.ObjLen, Pooled = true,
            };
        }
        finally
        {
            if (!keepRaw) pool.Return(raw);
        }
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
