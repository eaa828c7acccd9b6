// RootWriteBuffer: growable big-endian output buffer for one record (a key payload), with the
// pieces of TBufferFile ROOT readers rely on: byte-count/version headers patched after the
// object is written, TString/C-string encodings, and WriteObjectAny's class and object maps
// (positions counted as displacements: record offset + key length, plus kMapOffset).
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Hep.RootIO.Format;

namespace Hep.RootIO.Internal;

internal sealed class RootWriteBuffer
{
    private byte[] _data;
    private readonly Dictionary<string, int> _classTags = new(StringComparer.Ordinal);
    private readonly Dictionary<object, int> _objectTags = new(ReferenceEqualityComparer.Instance);

    public RootWriteBuffer(int keyLength = 0, int capacity = 256)
    {
        _data = new byte[Math.Max(capacity, 16)];
        KeyLength = keyLength;
    }

    public int KeyLength { get; }

    public int Position { get; private set; }

    public ReadOnlySpan<byte> Written => new(_data, 0, Position);

    public byte[] ToArray() => Written.ToArray();

    public Span<byte> Reserve(int n)
    {
        Grow(n);
        var s = new Span<byte>(_data, Position, n);
        Position += n;
        return s;
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    public void WriteByte(byte v) => Reserve(1)[0] = v;

    public void WriteBool(bool v) => WriteByte(v ? (byte)1 : (byte)0);

    public void WriteInt16(short v) => BinaryPrimitives.WriteInt16BigEndian(Reserve(2), v);

    public void WriteUInt16(ushort v) => BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), v);

    public void WriteInt32(int v) => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), v);

    public void WriteUInt32(uint v) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), v);

    public void WriteInt64(long v) => BinaryPrimitives.WriteInt64BigEndian(Reserve(8), v);

    public void WriteSingle(float v) => BinaryPrimitives.WriteSingleBigEndian(Reserve(4), v);

    public void WriteDouble(double v) => BinaryPrimitives.WriteDoubleBigEndian(Reserve(8), v);

    public void WriteTString(string s)
    {
        var bytes = Encoding.Latin1.GetBytes(s);
        if (bytes.Length < 255) WriteByte((byte)bytes.Length);
        else
        {
            WriteByte(255);
            WriteInt32(bytes.Length);
        }
        WriteBytes(bytes);
    }

    public void WriteCString(string s)
    {
        WriteBytes(Encoding.Latin1.GetBytes(s));
        WriteByte(0);
    }

    public static int TStringLength(string s)
    {
        int n = Encoding.Latin1.GetByteCount(s);
        return n < 255 ? 1 + n : 5 + n;
    }

    /// <summary>Starts "byte count + version"; returns the position to pass to EndObject.</summary>
    public int BeginObject(short version)
    {
        int at = Position;
        WriteUInt32(0);
        WriteInt16(version);
        return at;
    }

    /// <summary>Patches the byte count written by BeginObject (counts the bytes after the count word).</summary>
    public void EndObject(int at) =>
        BinaryPrimitives.WriteUInt32BigEndian(_data.AsSpan(at), (uint)(Position - at - 4) | ObjectHeader.ByteCountMask);

    /// <summary>TObject base: version 1, fUniqueID 0, fBits (kNotDeleted | kIsOnHeap as ROOT writes them).</summary>
    public void WriteTObject()
    {
        WriteInt16(1);
        WriteUInt32(0);
        WriteUInt32(0x03000000);
    }

    public void WriteTNamed(string name, string title)
    {
        int at = BeginObject(1);
        WriteTObject();
        WriteTString(name);
        WriteTString(title);
        EndObject(at);
    }

    /// <summary>ROOT's polymorphic pointer: null, a back-reference, or class tag + object body.</summary>
    public void WriteObjectAny(object? obj, string className, Action<RootWriteBuffer> body)
    {
        if (obj is null)
        {
            WriteUInt32(0);
            return;
        }
        if (_objectTags.TryGetValue(obj, out int tag))
        {
            WriteUInt32((uint)tag);
            return;
        }
        int countAt = Position;
        WriteUInt32(0);
        if (_classTags.TryGetValue(className, out int classTag))
        {
            WriteUInt32((uint)classTag | ObjectHeader.ClassMask);
        }
        else
        {
            _classTags[className] = Position + KeyLength + ObjectHeader.MapOffset;
            WriteUInt32(ObjectHeader.NewClassTag);
            WriteCString(className);
        }
        _objectTags[obj] = countAt + KeyLength + ObjectHeader.MapOffset;
        body(this);
        BinaryPrimitives.WriteUInt32BigEndian(_data.AsSpan(countAt), (uint)(Position - countAt - 4) | ObjectHeader.ByteCountMask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Grow(int n)
    {
        if (Position + n <= _data.Length) return;
        long want = Math.Max((long)_data.Length * 2, (long)Position + n);
        if (want > Array.MaxLength) throw new RootFormatException($"record larger than {Array.MaxLength} bytes");
        Array.Resize(ref _data, (int)want);
    }
}
