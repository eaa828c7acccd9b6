// ColumnAssembler: turns the decompressed baskets covering an entry range into a ColumnData.
//
// Pass 1 counts the values the range holds (exact, so the output is allocated once), pass 2
// copies the raw big-endian bytes of the selected entries straight into the typed output array
// and builds offsets, pass 3 byte-swaps the whole output in one vectorized sweep. There are no
// per-element allocations; per-entry work exists only for std::vector layouts (10-byte headers).
using System.Buffers.Binary;
using Hep.RootIO.Internal;

namespace Hep.RootIO.Trees;

internal static class ColumnAssembler
{
    private const int VectorHeader = 10; // byte count (4) + version (2) + size (4)

    public static ColumnData Assemble(RootBranch branch, IReadOnlyList<BasketPayload> baskets, long start, long stop, ReadContext ctx)
    {
        var type = branch.ValueType;
        int size = type.SizeOf();
        int entryCount = checked((int)(stop - start));
        return branch.Layout switch
        {
            BranchLayout.Scalar or BranchLayout.FixedArray or BranchLayout.LeafListMember =>
                AssembleFixed(branch, baskets, start, stop, entryCount, size, ctx),
            BranchLayout.Jagged => AssembleJagged(branch, baskets, start, stop, entryCount, size, ctx),
            BranchLayout.Vector => AssembleVector(branch, baskets, start, stop, entryCount, size, ctx),
            BranchLayout.VectorOfVector => AssembleVectorOfVector(branch, baskets, start, stop, entryCount, size, ctx),
            _ => throw ctx.Error(branch.UnsupportedReason ?? $"layout {branch.Layout} cannot be read"),
        };
    }

    private static (int First, int Stop) LocalRange(BasketPayload p, long start, long stop) =>
        ((int)(Math.Max(start, p.FirstEntry) - p.FirstEntry), (int)(Math.Min(stop, p.FirstEntry + p.EntryCount) - p.FirstEntry));

    private static ColumnData AssembleFixed(RootBranch branch, IReadOnlyList<BasketPayload> baskets, long start, long stop,
        int entryCount, int size, ReadContext ctx)
    {
        int perEntry = branch.FixedLength;
        int valueBytes = size * perEntry;
        int stride = branch.EntryStride > 0 ? branch.EntryStride : valueBytes;
        var values = RootValueTypes.Allocate(branch.ValueType, checked(entryCount * perEntry));
        var dst = ByteOrder.AsBytes(values, size);
        int w = 0;
        foreach (var p in baskets)
        {
            var (a, b) = LocalRange(p, start, stop);
            if (b <= a) continue;
            var data = p.Data;
            if ((long)p.EntryCount * stride > data.Length)
                throw ctx.Error($"basket holds {data.Length} bytes, too few for {p.EntryCount} entries of {stride} bytes");
            if (stride == valueBytes)
            {
                int n = (b - a) * valueBytes;
                data.Slice(a * valueBytes, n).CopyTo(dst.Slice(w, n));
                w += n;
            }
            else
            {
                for (int e = a; e < b; e++, w += valueBytes)
                    data.Slice(e * stride + branch.MemberOffset, valueBytes).CopyTo(dst.Slice(w, valueBytes));
            }
        }
        if (w != dst.Length) throw ctx.Error($"baskets cover {w / valueBytes} of {entryCount} requested entries");
        ByteOrder.BigEndianToNative(dst, branch.ValueType);
        return new ColumnData(branch.Name, branch.Layout, branch.ValueType, start, entryCount, values, perEntry, null, null);
    }

    private static ColumnData AssembleJagged(RootBranch branch, IReadOnlyList<BasketPayload> baskets, long start, long stop,
        int entryCount, int size, ReadContext ctx)
    {
        long total = 0;
        foreach (var p in baskets)
        {
            var (a, b) = LocalRange(p, start, stop);
            if (b <= a) continue;
            var off = p.Offsets ?? throw ctx.Error("variable-length basket has no entry offsets");
            total += off[b] - off[a];
        }
        if (total % size != 0) throw ctx.Error($"jagged data of {total} bytes is not a multiple of {size}");
        var values = RootValueTypes.Allocate(branch.ValueType, checked((int)(total / size)));
        var dst = ByteOrder.AsBytes(values, size);
        var offsets = new int[entryCount + 1];
        int w = 0, entry = 0;
        foreach (var p in baskets)
        {
            var (a, b) = LocalRange(p, start, stop);
            if (b <= a) continue;
            var off = p.Offsets!;
            int n = off[b] - off[a];
            p.Data.Slice(off[a], n).CopyTo(dst.Slice(w, n));
            for (int e = a; e < b; e++)
            {
                int len = off[e + 1] - off[e];
                if (len % size != 0) throw ctx.Error($"entry {p.FirstEntry + e} has {len} bytes, not a multiple of {size}");
                offsets[entry + 1] = offsets[entry] + len / size;
                entry++;
            }
            w += n;
        }
        if (entry != entryCount) throw ctx.Error($"baskets cover {entry} of {entryCount} requested entries");
        ByteOrder.BigEndianToNative(dst, branch.ValueType);
        return new ColumnData(branch.Name, branch.Layout, branch.ValueType, start, entryCount, values, branch.FixedLength, offsets, null);
    }

    private static ColumnData AssembleVector(RootBranch branch, IReadOnlyList<BasketPayload> baskets, long start, long stop,
        int entryCount, int size, ReadContext ctx)
    {
        long total = 0;
        foreach (var p in baskets)
        {
            var (a, b) = LocalRange(p, start, stop);
            if (b <= a) continue;
            var off = p.Offsets ?? throw ctx.Error("std::vector basket has no entry offsets");
            total += (off[b] - off[a] - (long)VectorHeader * (b - a)) / size;
        }
        var values = RootValueTypes.Allocate(branch.ValueType, checked((int)Math.Max(total, 0)));
        var dst = ByteOrder.AsBytes(values, size);
        var offsets = new int[entryCount + 1];
        int w = 0, entry = 0;
        foreach (var p in baskets)
        {
            var (a, b) = LocalRange(p, start, stop);
            if (b <= a) continue;
            var data = p.Data;
            var off = p.Offsets!;
            for (int e = a; e < b; e++)
            {
                int o = off[e], len = off[e + 1] - o;
                int n = VectorLength(data, o, len, size, p.FirstEntry + e, ctx);
                int bytes = n * size;
                if (bytes > dst.Length - w) throw ctx.Error($"entry {p.FirstEntry + e} overruns the expected element count");
                data.Slice(o + VectorHeader, bytes).CopyTo(dst.Slice(w, bytes));
                w += bytes;
                offsets[entry + 1] = offsets[entry] + n;
                entry++;
            }
        }
        if (entry != entryCount || w != dst.Length) throw ctx.Error($"baskets cover {entry} of {entryCount} requested entries");
        ByteOrder.BigEndianToNative(dst, branch.ValueType);
        return new ColumnData(branch.Name, branch.Layout, branch.ValueType, start, entryCount, values, 1, offsets, null);
    }

    private static int VectorLength(ReadOnlySpan<byte> data, int o, int len, int size, long entry, ReadContext ctx)
    {
        if (len < VectorHeader) throw ctx.Error($"std::vector entry {entry} is {len} bytes, shorter than its header");
        uint bc = BinaryPrimitives.ReadUInt32BigEndian(data[o..]);
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(data[(o + 4)..]);
        if ((version & 0x4000) != 0) throw ctx.Error("member-wise streamed std::vector is not supported");
        int n = BinaryPrimitives.ReadInt32BigEndian(data[(o + 6)..]);
        if (n < 0 || (long)n * size != len - VectorHeader || (bc & 0x40000000) == 0)
            throw ctx.Error($"corrupt std::vector entry {entry} (size {n}, {len} bytes)");
        return n;
    }

    private static ColumnData AssembleVectorOfVector(RootBranch branch, IReadOnlyList<BasketPayload> baskets, long start, long stop,
        int entryCount, int size, ReadContext ctx)
    {
        // Pass 1: count inner vectors and values (entries: header, outer size, then per inner: size + values).
        long innerTotal = 0, valueTotal = 0;
        foreach (var p in baskets)
        {
            var (a, b) = LocalRange(p, start, stop);
            if (b <= a) continue;
            var off = p.Offsets ?? throw ctx.Error("std::vector basket has no entry offsets");
            for (int e = a; e < b; e++)
                Walk(p.Data, off[e], off[e + 1], size, p.FirstEntry + e, ctx, ref innerTotal, ref valueTotal, default, null);
        }
        var values = RootValueTypes.Allocate(branch.ValueType, checked((int)valueTotal));
        var dst = ByteOrder.AsBytes(values, size);
        var offsets = new int[entryCount + 1];
        var inner = new int[checked((int)innerTotal + 1)];
        long innerW = 0, valueW = 0;
        int entry = 0;
        foreach (var p in baskets)
        {
            var (a, b) = LocalRange(p, start, stop);
            if (b <= a) continue;
            for (int e = a; e < b; e++)
            {
                Walk(p.Data, p.Offsets![e], p.Offsets[e + 1], size, p.FirstEntry + e, ctx, ref innerW, ref valueW, dst, inner);
                offsets[++entry] = (int)innerW;
            }
        }
        ByteOrder.BigEndianToNative(dst, branch.ValueType);
        return new ColumnData(branch.Name, branch.Layout, branch.ValueType, start, entryCount, values, 1, offsets, inner);
    }

    private static void Walk(ReadOnlySpan<byte> data, int o, int end, int size, long entry, ReadContext ctx,
        ref long innerCount, ref long valueCount, Span<byte> dst, int[]? inner)
    {
        int len = end - o;
        if (len < VectorHeader) throw ctx.Error($"std::vector entry {entry} is {len} bytes, shorter than its header");
        int nOuter = BinaryPrimitives.ReadInt32BigEndian(data[(o + 6)..]);
        if (nOuter < 0 || nOuter > (len - VectorHeader) / 4) throw ctx.Error($"corrupt nested vector size {nOuter} in entry {entry}");
        int p = o + VectorHeader;
        for (int i = 0; i < nOuter; i++)
        {
            if (end - p < 4) throw ctx.Error($"nested vector entry {entry} truncated");
            int n = BinaryPrimitives.ReadInt32BigEndian(data[p..]);
            p += 4;
            if (n < 0 || (long)n * size > end - p) throw ctx.Error($"corrupt inner vector size {n} in entry {entry}");
            if (inner is not null)
            {
                if (innerCount + 1 >= inner.Length || (valueCount + n) * size > dst.Length)
                    throw ctx.Error($"nested vector entry {entry} overruns the expected element count");
                data.Slice(p, n * size).CopyTo(dst.Slice((int)valueCount * size, n * size));
                inner[innerCount + 1] = checked((int)(valueCount + n));
            }
            valueCount += n;
            innerCount++;
            p += n * size;
        }
        if (p != end) throw ctx.Error($"nested vector entry {entry} has {end - p} trailing bytes");
    }
}
