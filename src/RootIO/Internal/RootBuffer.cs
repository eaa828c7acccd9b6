// RootBuffer: bounds-checked big-endian cursor over one uncompressed ROOT record.
//
// ROOT serializes everything big-endian. Positions in the object map (used by ReadObjectAny's
// back-references) are "displacements": the offset inside the record plus the length of the key
// header that preceded the record when ROOT wrote it, so the buffer carries that KeyLength.
// Every read checks the remaining length and raises RootFormatException naming the file/branch.
using System.Buffers.Binary;
using System.Text;

namespace Hep.RootIO.Internal;

internal sealed class RootBuffer
{
    private readonly byte[] _data;
    private readonly int _start;
    private readonly int _end;
    private int _pos;

    public RootBuffer(byte[] data, int start, int length, int keyLength, ReadContext context)
    {
        if (start < 0 || length < 0 || start + length > data.Length)
            throw context.Error($"record range [{start}, {start + length}) outside buffer of {data.Length} bytes");
        _data = data;
        _start = start;
        _end = start + length;
        _pos = start;
        KeyLength = keyLength;
        Context = context;
    }

    public RootBuffer(byte[] data, ReadContext context) : this(data, 0, data.Length, 0, context) { }

    public ReadContext Context { get; set; }

    /// <summary>Length of the key header that preceded this record when it was written.</summary>
    public int KeyLength { get; }

    /// <summary>Offset from the start of the record.</summary>
    public int Position
    {
        get => _pos - _start;
        set
        {
            if (value < 0 || _start + value > _end)
                throw Context.Error($"seek to {value} outside record of {_end - _start} bytes");
            _pos = _start + value;
        }
    }

    public int Length => _end - _start;

    public int Remaining => _end - _pos;

    /// <summary>Position as ROOT's object map counts it (record offset + key length).</summary>
    public int Displacement => Position + KeyLength;

    public Dictionary<int, object?> References { get; } = new();

    /// <summary>Current nesting of ReadObjectAny calls; bounded so corrupt input cannot overflow the stack.</summary>
    public int Depth { get; set; }

    public ReadOnlySpan<byte> Peek(int count)
    {
        Ensure(count);
        return new ReadOnlySpan<byte>(_data, _pos, count);
    }

    public ReadOnlySpan<byte> ReadSpan(int count)
    {
        Ensure(count);
        var s = new ReadOnlySpan<byte>(_data, _pos, count);
        _pos += count;
        return s;
    }

    public void Skip(int count)
    {
        Ensure(count);
        _pos += count;
    }

    public byte ReadByte()
    {
        Ensure(1);
        return _data[_pos++];
    }

    public bool ReadBool() => ReadByte() != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(ReadSpan(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(ReadSpan(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(ReadSpan(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(ReadSpan(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(ReadSpan(8));

    public float ReadSingle() => BinaryPrimitives.ReadSingleBigEndian(ReadSpan(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleBigEndian(ReadSpan(8));

    /// <summary>Reads a count field and checks it against the bytes left (each item at least itemSize bytes).</summary>
    public int ReadCount(int itemSize, string what)
    {
        int n = ReadInt32();
        CheckCount(n, itemSize, what);
        return n;
    }

    public void CheckCount(long n, int itemSize, string what)
    {
        if (n < 0 || n * (long)Math.Max(itemSize, 1) > Remaining)
            throw Context.Error($"corrupt {what} count {n} (only {Remaining} bytes left in record)");
    }

    /// <summary>ROOT TString: one length byte, or 255 followed by a 32-bit length.</summary>
    public string ReadTString()
    {
        int n = ReadByte();
        if (n == 255) n = ReadInt32();
        if (n < 0) throw Context.Error($"corrupt string length {n}");
        return Encoding.Latin1.GetString(ReadSpan(n));
    }

    /// <summary>NUL-terminated class name as written after a new-class tag.</summary>
    public string ReadCString()
    {
        var rest = new ReadOnlySpan<byte>(_data, _pos, _end - _pos);
        int n = rest.IndexOf((byte)0);
        if (n < 0) throw Context.Error("unterminated class name");
        string s = Encoding.Latin1.GetString(rest[..n]);
        _pos += n + 1;
        return s;
    }

    public long[] ReadInt64Array(int n)
    {
        CheckCount(n, 8, "array");
        var a = new long[n];
        for (int i = 0; i < n; i++) a[i] = ReadInt64();
        return a;
    }

    public int[] ReadInt32Array(int n)
    {
        CheckCount(n, 4, "array");
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = ReadInt32();
        return a;
    }

    private void Ensure(int count)
    {
        if (count < 0 || count > _end - _pos)
            throw Context.Error($"record truncated: need {count} bytes at offset {Position}, {Remaining} left");
    }
}
