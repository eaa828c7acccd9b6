// ByteOrder: bulk big-endian -> native conversion in place. ROOT stores values big-endian; the
// assembler first copies raw bytes into the destination array, then one vectorized pass
// (BinaryPrimitives.ReverseEndianness over spans) fixes the order. Bools are normalized to 0/1.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Hep.RootIO.Internal;

internal static class ByteOrder
{
    public static void BigEndianToNative(Span<byte> bytes, RootValueType type)
    {
        if (type == RootValueType.Bool)
        {
            for (int i = 0; i < bytes.Length; i++) bytes[i] = bytes[i] != 0 ? (byte)1 : (byte)0;
            return;
        }
        NativeToBigEndian(bytes, type.SizeOf()); // the same swap
    }

    /// <summary>Native -> big-endian, for the writer; also the reader's swap (it is its own inverse).</summary>
    public static void NativeToBigEndian(Span<byte> bytes, int elementSize)
    {
        if (!BitConverter.IsLittleEndian) return;
        switch (elementSize)
        {
            case 2:
                var s = MemoryMarshal.Cast<byte, ushort>(bytes);
                BinaryPrimitives.ReverseEndianness(s, s);
                break;
            case 4:
                var i4 = MemoryMarshal.Cast<byte, uint>(bytes);
                BinaryPrimitives.ReverseEndianness(i4, i4);
                break;
            case 8:
                var i8 = MemoryMarshal.Cast<byte, ulong>(bytes);
                BinaryPrimitives.ReverseEndianness(i8, i8);
                break;
        }
    }

    /// <summary>The bytes of an array of primitives (no copy).</summary>
    public static Span<byte> AsBytes(Array array, int elementSize) =>
        MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), array.Length * elementSize);
}
