// BranchWriter: accumulates one branch's entries as big-endian bytes and writes a basket key
// whenever the buffer reaches the basket size. Scalar entries are fixed-size (no offset table);
// std::vector entries are "byte count | version 9 | size | values", with the entry-offset table
// (count = n + 1, offsets including the key length, then 0, as ROOT writes it) after the data.
using System.Runtime.InteropServices;
using Hep.RootIO.Compression;
using Hep.RootIO.Internal;

namespace Hep.RootIO.Writing;

internal sealed class BranchWriter
{
    private const short VectorVersion = 9;
    private const int BasketFieldsLength = 2 + 4 + 4 + 4 + 4 + 1;

    private readonly string _treeName;
    private readonly int _basketSize;
    private readonly int _valueSize;
    private byte[] _data;
    private int _length;
    private readonly List<int> _entryStarts = new();
    private int _entriesInBasket;

    public BranchWriter(BranchSpec spec, string treeName, int basketSize)
    {
        Spec = spec;
        _treeName = treeName;
        _basketSize = basketSize;
        _valueSize = spec.Type.SizeOf();
        _data = new byte[basketSize + 1024];
    }

    public BranchSpec Spec { get; }

    /// <summary>Identity used for the leaf object in the TTree's object map.</summary>
    public object Leaf { get; } = new();

    public long Entries { get; private set; }
    public long TotalBytes { get; private set; }
    public long ZipBytes { get; private set; }
    public List<int> BasketBytes { get; } = new();
    public List<long> BasketEntry { get; } = new() { 0 };
    public List<long> BasketSeek { get; } = new();

    public void Append(WriteColumn column, int entryCount, RootFileBuilder file)
    {
        if (column.Values.GetType().GetElementType() != Spec.Type.ClrType())
            throw new ArgumentException($"branch '{Spec.Name}' is {Spec.Type}; got {column.Values.GetType().Name}");
        if (Spec.IsVector) AppendVectors(column, entryCount, file);
        else AppendScalars(column.Values, entryCount, file);
    }

    private void AppendScalars(Array values, int entryCount, RootFileBuilder file)
    {
        if (values.Length != entryCount)
            throw new ArgumentException($"branch '{Spec.Name}': {values.Length} values for {entryCount} entries");
        var src = ByteOrder.AsBytes(values, _valueSize);
        int done = 0;
        while (done < entryCount)
        {
            int room = Math.Max(1, (_basketSize - _length + _valueSize - 1) / _valueSize);
            int n = Math.Min(room, entryCount - done);
            var dst = Reserve(n * _valueSize);
            src.Slice(done * _valueSize, n * _valueSize).CopyTo(dst);
            if (Spec.Type == RootValueType.Bool)
                for (int i = 0; i < dst.Length; i++) dst[i] = dst[i] != 0 ? (byte)1 : (byte)0;
            else
                ByteOrder.NativeToBigEndian(dst, _valueSize);
            _entriesInBasket += n;
            Entries += n;
            done += n;
            if (_length >= _basketSize) Flush(file);
        }
    }

    private void AppendVectors(WriteColumn column, int entryCount, RootFileBuilder file)
    {
        var offsets = column.Offsets ?? throw new ArgumentException($"vector branch '{Spec.Name}' needs offsets");
        if (offsets.Length != entryCount + 1 || offsets[0] < 0 || offsets[^1] > column.Values.Length)
            throw new ArgumentException($"vector branch '{Spec.Name}': offsets must have {entryCount + 1} values within the value array");
        var src = ByteOrder.AsBytes(column.Values, _valueSize);
        for (int e = 0; e < entryCount; e++)
        {
            int n = offsets[e + 1] - offsets[e];
            if (n < 0) throw new ArgumentException($"vector branch '{Spec.Name}': decreasing offsets at entry {e}");
            int bytes = n * _valueSize;
            _entryStarts.Add(_length);
            var dst = Reserve(10 + bytes);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(dst, (uint)(6 + bytes) | 0x40000000u);
            System.Buffers.Binary.BinaryPrimitives.WriteInt16BigEndian(dst[4..], VectorVersion);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(dst[6..], n);
            var values = dst[10..];
            src.Slice(offsets[e] * _valueSize, bytes).CopyTo(values);
            ByteOrder.NativeToBigEndian(values, _valueSize);
            _entriesInBasket++;
            Entries++;
            if (_length >= _basketSize) Flush(file);
        }
    }

    /// <summary>Writes the pending entries as one basket key.</summary>
    public void Flush(RootFileBuilder file)
    {
        if (_entriesInBasket == 0) return;
        int keyLen = KeyWriter.HeaderLength("TBasket", Spec.Name, _treeName) + BasketFieldsLength;
        int border = _length;
        if (Spec.IsVector)
        {
            // Offset table: count, absolute offsets of each entry, then a trailing 0.
            var table = Reserve(4 + 4 * (_entriesInBasket + 1));
            var ints = MemoryMarshal.Cast<byte, int>(table);
            ints[0] = _entriesInBasket + 1;
            for (int i = 0; i < _entriesInBasket; i++) ints[1 + i] = _entryStarts[i] + keyLen;
            ints[^1] = 0;
            ByteOrder.NativeToBigEndian(table, 4);
        }
        var payload = new ReadOnlySpan<byte>(_data, 0, _length);
        byte[]? compressed = RootCompressor.CompressZlib(payload, file.CompressionLevel);
        int stored = compressed?.Length ?? payload.Length;
        int nbytes = keyLen + stored;

        var key = new RootWriteBuffer(0, keyLen);
        KeyWriter.Write(key, nbytes, payload.Length, keyLen, file.End, RootFileBuilder.Begin, "TBasket", Spec.Name, _treeName);
        key.WriteInt16(3); // TBasket class version
        key.WriteInt32(keyLen + payload.Length); // fBufferSize
        key.WriteInt32(Spec.IsVector ? _entriesInBasket + 1 : _valueSize); // fNevBufSize
        key.WriteInt32(_entriesInBasket); // fNevBuf
        key.WriteInt32(keyLen + border); // fLast
        key.WriteByte(0);
        long seek = file.Append(key.Written);
        file.Append(compressed ?? payload);

        BasketSeek.Add(seek);
        BasketBytes.Add(nbytes);
        BasketEntry.Add(Entries);
        TotalBytes += keyLen + payload.Length;
        ZipBytes += nbytes;
        _length = 0;
        _entriesInBasket = 0;
        _entryStarts.Clear();
    }

    private Span<byte> Reserve(int n)
    {
        if (_length + n > _data.Length) Array.Resize(ref _data, Math.Max(_data.Length * 2, _length + n));
        var s = new Span<byte>(_data, _length, n);
        _length += n;
        return s;
    }
}
