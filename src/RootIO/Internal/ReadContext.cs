// ReadContext: names the file (and optionally the branch) a parse is working on, so that every
// error raised deep inside a decoder can name both without threading strings through each call.
namespace Hep.RootIO.Internal;

internal sealed record ReadContext(string FilePath, string? Branch = null)
{
    public ReadContext WithBranch(string branch) => this with { Branch = branch };

    public RootFormatException Error(string what, Exception? inner = null) =>
        RootFormatException.Create(FilePath, Branch, what, inner);
}
