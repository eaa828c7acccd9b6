// ForeignObject: placeholder for a streamed object of a class the reader does not model; it is
// skipped using its byte count and kept only so that back-references to it resolve.
namespace Hep.RootIO.Format;

internal sealed record ForeignObject(string ClassName);

/// <summary>A class tag registered in the object map by a new-class record.</summary>
internal sealed record ClassTag(string ClassName);
