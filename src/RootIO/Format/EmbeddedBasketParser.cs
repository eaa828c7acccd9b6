// EmbeddedBasketParser: a TBasket streamed inside its TBranch (fBaskets). Layout: the key-like
// header (fNbytes, key version, fObjlen, fDatime, fKeylen, fCycle, seeks, names), the basket
// fields (fVersion, fBufferSize, fNevBufSize, fNevBuf, fLast, flag), the entry-offset array when
// entries are variable-sized, a second copy of the key header, then fLast - fKeylen data bytes.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Format;

internal static class EmbeddedBasketParser
{
    public static void Read(RootBuffer b, EmbeddedBasket basket)
    {
        int start = b.Position;
        int nbytes = b.ReadInt32();
        b.ReadInt16(); // key version
        b.ReadInt32(); // fObjlen
        b.ReadUInt32(); // fDatime
        int keyLen = b.ReadInt16();
        b.ReadInt16(); // fCycle
        if (keyLen < 19 + 18) throw b.Context.Error($"corrupt embedded basket key length {keyLen}");
        b.Position = start + keyLen - 19;
        b.ReadUInt16(); // basket version
        b.ReadInt32(); // fBufferSize
        int nevBufSize = b.ReadInt32();
        int nevBuf = b.ReadInt32();
        int last = b.ReadInt32();
        b.ReadByte(); // flag
        int border = last - keyLen;
        if (nevBuf < 0 || border < 0)
            throw b.Context.Error($"corrupt embedded basket (fNevBuf={nevBuf}, fLast={last}, fKeylen={keyLen})");
        if (nbytes > keyLen)
            throw b.Context.Error("embedded basket claims to be compressed, which ROOT never writes");
        basket.EntryCount = nevBuf;
        if ((long)nevBufSize * nevBuf + keyLen != last)
        {
            b.ReadInt32(); // array length as written by ROOT
            b.CheckCount(nevBuf, 4, "embedded basket entry offsets");
            var offsets = new int[nevBuf + 1];
            for (int i = 0; i < nevBuf; i++) offsets[i] = b.ReadInt32() - keyLen;
            offsets[nevBuf] = border;
            basket.Offsets = offsets;
        }
        b.Skip(keyLen); // second copy of the key header
        basket.Data = b.ReadSpan(border).ToArray();
    }
}
