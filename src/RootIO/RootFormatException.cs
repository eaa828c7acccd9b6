// RootFormatException: the one exception type this library throws for input it cannot read.
//
// Every parse or decode failure (truncated file, wrong magic, corrupted basket, unknown branch,
// unsupported streamer or compression) surfaces as this type. The message always names the file
// and, when a branch is involved, the branch, so a user can tell which input is at fault.
namespace Hep.RootIO;

/// <summary>Raised when a ROOT file cannot be read or written as requested.</summary>
public sealed class RootFormatException : Exception
{
    public RootFormatException(string message) : base(message) { }

    public RootFormatException(string message, Exception inner) : base(message, inner) { }

    /// <summary>File the failure refers to (may be empty for in-memory buffers).</summary>
    public string FilePath { get; init; } = "";

    /// <summary>Branch the failure refers to, or null when it is not branch-specific.</summary>
    public string? BranchName { get; init; }

    internal static RootFormatException Create(string filePath, string? branch, string what, Exception? inner = null)
    {
        string where = branch is null ? $"file '{filePath}'" : $"file '{filePath}', branch '{branch}'";
        string msg = $"{where}: {what}";
        return inner is null
            ? new RootFormatException(msg) { FilePath = filePath, BranchName = branch }
            : new RootFormatException(msg, inner) { FilePath = filePath, BranchName = branch };
    }
}
