// RootDirectory: one TDirectory of a file: its keys, subdirectories and trees.
using Hep.RootIO.Format;
using Hep.RootIO.Internal;
using Hep.RootIO.Trees;

namespace Hep.RootIO;

public sealed class RootDirectory
{
    private readonly RootFile _file;
    private readonly List<KeyHeader> _keys;

    internal RootDirectory(RootFile file, string name, DirectoryRecord record)
    {
        _file = file;
        Name = name;
        _keys = record.SeekKeys > 0 ? ReadKeys(file, record) : new List<KeyHeader>();
        Keys = _keys.Select(k => new RootKey(k.ClassName, k.Name, k.Title, k.Cycle, k.SeekKey, k.ObjLen, k.Nbytes)).ToList();
    }

    public string Name { get; }

    /// <summary>All keys of this directory, every cycle included.</summary>
    public IReadOnlyList<RootKey> Keys { get; }

    /// <summary>Opens a subdirectory by name.</summary>
    public RootDirectory GetDirectory(string name) =>
        Guard.Run(_file.Context, () => OpenDirectory(FindKey(name, k => k.ClassName is "TDirectory" or "TDirectoryFile")));

    /// <summary>Opens a tree by name or by a "dir/sub/tree" path.</summary>
    public RootTree GetTree(string path)
    {
        int slash = path.IndexOf('/');
        if (slash > 0) return GetDirectory(path[..slash]).GetTree(path[(slash + 1)..]);
        return Guard.Run(_file.Context, () =>
        {
            var key = FindKey(path, k => k.ClassName == "TTree");
            var (header, payload) = _file.ReadKey(key.SeekKey, key.Nbytes, _file.Context);
            var b = new RootBuffer(payload, 0, payload.Length, header.KeyLen, _file.Context);
            return new RootTree(_file, TreeParser.Read(b));
        });
    }

    internal void CollectTrees(string prefix, List<string> result)
    {
        foreach (var k in Highest(_keys))
        {
            if (k.ClassName == "TTree") result.Add(prefix + k.Name);
            else if (k.ClassName is "TDirectory" or "TDirectoryFile")
                Guard.Run(_file.Context, () => OpenDirectory(k)).CollectTrees(prefix + k.Name + "/", result);
        }
    }

    private RootDirectory OpenDirectory(KeyHeader key)
    {
        var (header, payload) = _file.ReadKey(key.SeekKey, key.Nbytes, _file.Context);
        var rec = DirectoryRecord.Read(new RootBuffer(payload, 0, payload.Length, header.KeyLen, _file.Context));
        return new RootDirectory(_file, key.Name, rec);
    }

    private KeyHeader FindKey(string name, Func<KeyHeader, bool> kind)
    {
        string bare = name;
        int cycle = -1;
        int semi = name.LastIndexOf(';');
        if (semi > 0 && int.TryParse(name[(semi + 1)..], out int c)) (bare, cycle) = (name[..semi], c);
        var match = _keys.Where(k => k.Name == bare && kind(k) && (cycle < 0 || k.Cycle == cycle))
            .OrderByDescending(k => k.Cycle).FirstOrDefault();
        if (match is null)
        {
            string known = string.Join(", ", Highest(_keys).Select(k => $"{k.Name} ({k.ClassName})"));
            throw _file.Context.Error($"no object '{name}' of the requested kind in directory '{Name}' (keys: {known})");
        }
        return match;
    }

    private static IEnumerable<KeyHeader> Highest(IEnumerable<KeyHeader> keys) =>
        keys.GroupBy(k => (k.Name, k.ClassName)).Select(g => g.MaxBy(k => k.Cycle)!);

    private static List<KeyHeader> ReadKeys(RootFile file, DirectoryRecord record)
    {
        var ctx = file.Context;
        byte[] raw = file.Source.Read(record.SeekKeys, record.NbytesKeys, ctx);
        var b = new RootBuffer(raw, ctx);
        var listKey = KeyHeader.Read(b);
        b.Position = listKey.KeyLen;
        int n = b.ReadCount(20, "directory key");
        var keys = new List<KeyHeader>(n);
        for (int i = 0; i < n; i++) keys.Add(KeyHeader.Read(b));
        return keys;
    }
}
