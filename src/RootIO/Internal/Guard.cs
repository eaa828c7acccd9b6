// Guard: the API-boundary safety net. Parsers validate sizes and throw RootFormatException
// themselves; should corrupt input still trip a runtime check (an index, a cast, an overflow),
// Guard converts it into RootFormatException naming the file/branch, so callers only ever see
// our exception type for bad input. OutOfMemory and cancellation pass through unchanged.
namespace Hep.RootIO.Internal;

internal static class Guard
{
    public static T Run<T>(ReadContext ctx, Func<T> body)
    {
        try
        {
            return body();
        }
        catch (RootFormatException) { throw; }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or InvalidCastException
                                       or OverflowException or InvalidDataException or EndOfStreamException
                                       or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw ctx.Error($"corrupt or unsupported data ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }
}
