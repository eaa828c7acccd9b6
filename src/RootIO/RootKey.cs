// RootKey: public view of one entry of a directory (class, name, title, cycle, sizes).
namespace Hep.RootIO;

public sealed record RootKey(string ClassName, string Name, string Title, int Cycle, long Seek, int ObjectLength, int StoredLength)
{
    public bool IsDirectory => ClassName is "TDirectory" or "TDirectoryFile";

    public bool IsTree => ClassName == "TTree";
}
