// KeyWriter: TKey headers as this library writes them: key version 1004 (64-bit seeks), the
// current date in ROOT's packed TDatime format, cycle 1.
using Hep.RootIO.Internal;

namespace Hep.RootIO.Writing;

internal static class KeyWriter
{
    public const short Version = 1004;

    public static int HeaderLength(string className, string name, string title) =>
        4 + 2 + 4 + 4 + 2 + 2 + 8 + 8
        + RootWriteBuffer.TStringLength(className) + RootWriteBuffer.TStringLength(name) + RootWriteBuffer.TStringLength(title);

    public static void Write(RootWriteBuffer w, int nbytes, int objLen, int keyLen, long seekKey, long seekPdir,
        string className, string name, string title)
    {
        w.WriteInt32(nbytes);
        w.WriteInt16(Version);
        w.WriteInt32(objLen);
        w.WriteUInt32(Datime(DateTime.Now));
        w.WriteInt16((short)keyLen);
        w.WriteInt16(1);
        w.WriteInt64(seekKey);
        w.WriteInt64(seekPdir);
        w.WriteTString(className);
        w.WriteTString(name);
        w.WriteTString(title);
    }

    public static uint Datime(DateTime t) =>
        (uint)((t.Year - 1995) << 26 | t.Month << 22 | t.Day << 17 | t.Hour << 12 | t.Minute << 6 | t.Second);
}
