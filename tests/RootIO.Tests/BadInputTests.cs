// BadInputTests: broken inputs give RootFormatException (our one exception type) naming the file
// and, where one is involved, the branch: truncated files, wrong magic, corrupted baskets
// (zlib and LZ4 checksum), the pre-2000 "CS" codec, unknown branches, unsupported streamers.
using System.Buffers.Binary;
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
public class BadInputTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("rootio-bad-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void WrongMagicIsRejected()
    {
        string path = Copy("uproot-simple.root", bytes => bytes[0] = (byte)'R');
        var ex = Assert.Throws<RootFormatException>(() => RootFile.Open(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("magic"));
        Assert.That(ex.FilePath, Is.EqualTo(path));

        string text = Path.Combine(_dir, "text.root");
        File.WriteAllText(text, "hello");
        Assert.Throws<RootFormatException>(() => RootFile.Open(text));
    }

    [TestCase(0)]
    [TestCase(3)]
    [TestCase(40)]
    [TestCase(150)]
    [TestCase(5000)]
    public void TruncatedFileIsRejected(int length)
    {
        string path = Copy("uproot-HZZ.root", null, length);
        var ex = Assert.Throws<RootFormatException>(() => ReadEverything(path));
        Assert.That(ex!.Message, Does.Contain(path));
    }

    [Test]
    public void BasketKeyRunningPastItsRecordNamesTheBranch()
    {
        // A truncated file already fails at Open (fEND beyond the end of the file). Within an
        // intact file, a basket whose key claims more bytes than its record holds must fail the
        // same way when that branch is read, naming the branch.
        var sample = new SampleTree(200, 1);
        string path = Path.Combine(_dir, "cut.root");
        sample.Write(path, 200);
        long seek;
        using (var f = RootFile.Open(path)) seek = f.GetTree("sample").GetBranch("vi").Record.BasketSeek[0];
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan((int)seek), int.MaxValue);
        File.WriteAllBytes(path, bytes);
        using var file = RootFile.Open(path);
        var ex = Assert.Throws<RootFormatException>(() => file.GetTree("sample").ReadColumn("vi"));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("'vi'"));
        Assert.That(ex.BranchName, Is.EqualTo("vi"));
    }

    [Test]
    public void CorruptedZlibBasketNamesFileAndBranch()
    {
        var sample = new SampleTree(500, 2);
        string path = Path.Combine(_dir, "corrupt.root");
        sample.Write(path, 500, basketSize: 1 << 20);
        long seek;
        int nbytes;
        using (var f = RootFile.Open(path))
        {
            var rec = f.GetTree("sample").GetBranch("vf").Record;
            (seek, nbytes) = (rec.BasketSeek[0], rec.BasketBytes[0]);
        }
        var bytes = File.ReadAllBytes(path);
        for (int i = 0; i < 16; i++) bytes[seek + nbytes - 40 + i] ^= 0x5A; // inside the deflate stream
        File.WriteAllBytes(path, bytes);
        using var file = RootFile.Open(path);
        var ex = Assert.Throws<RootFormatException>(() => file.GetTree("sample").ReadColumn("vf"));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("branch 'vf'"));
        Assert.That(file.GetTree("sample").ReadColumn("vi").GetValues<int>(), Is.EqualTo(sample.VI), "other branches still read");
    }

    [Test]
    public void CorruptedLz4BasketFailsItsChecksum()
    {
        string path = CorruptFirstBasket("uproot-HZZ-lz4.root", "events", "Jet_Px", 30);
        using var file = RootFile.Open(path);
        var ex = Assert.Throws<RootFormatException>(() => file.GetTree("events").ReadColumn("Jet_Px"));
        Assert.That(ex!.Message, Does.Contain("checksum").And.Contain("Jet_Px").And.Contain(path));
    }

    [Test]
    public void OldCsCompressionIsRejectedWithOurException()
    {
        string path = Copy("uproot-HZZ-zlib.root", null);
        long at;
        using (var f = RootFile.Open(path))
        {
            var rec = f.GetTree("events").GetBranch("MET_px").Record;
            using var probe = File.OpenRead(path);
            var key = new byte[rec.BasketBytes[0]];
            probe.Position = rec.BasketSeek[0];
            probe.ReadExactly(key);
            int keyLen = BinaryPrimitives.ReadInt16BigEndian(key.AsSpan(14));
            Assert.That((char)key[keyLen], Is.EqualTo('Z'));
            at = rec.BasketSeek[0] + keyLen;
        }
        var bytes = File.ReadAllBytes(path);
        bytes[at] = (byte)'C';
        bytes[at + 1] = (byte)'S';
        File.WriteAllBytes(path, bytes);
        using var file = RootFile.Open(path);
        var ex = Assert.Throws<RootFormatException>(() => file.GetTree("events").ReadColumn("MET_px"));
        Assert.That(ex!.Message, Does.Contain("'CS'").And.Contain("MET_px"));
    }

    [Test]
    public void UnknownBranchNamesFileAndBranch()
    {
        var tree = OpenFiles.Tree("uproot-Zmumu.root", "events");
        var ex = Assert.Throws<RootFormatException>(() => tree.ReadColumn("no_such_branch"));
        Assert.That(ex!.Message, Does.Contain("uproot-Zmumu.root").And.Contain("no_such_branch"));
        Assert.That(ex.BranchName, Is.EqualTo("no_such_branch"));
        Assert.Throws<RootFormatException>(() => OpenFiles.Get("uproot-Zmumu.root").GetTree("no_such_tree"));
    }

    [TestCase("uproot-HZZ-objects.root", "events", "jetp4", "TLorentzVector")]
    [TestCase("uproot-stl_containers.root", "tree", "map_int32_int16", "map")]
    [TestCase("uproot-stl_containers.root", "tree", "string", "string")]
    [TestCase("uproot-small-evnt-tree-fullsplit.root", "tree", "evt", "split")]
    [TestCase("uproot-simple.root", "tree", "three", "TLeafC")]
    public void UnsupportedStreamerNamesFileAndBranch(string fileName, string treeName, string branch, string reason)
    {
        var tree = OpenFiles.Tree(fileName, treeName);
        Assert.That(tree.GetBranch(branch).IsReadable, Is.False);
        var ex = Assert.Throws<RootFormatException>(() => tree.ReadColumn(branch));
        Assert.That(ex!.Message, Does.Contain(fileName).And.Contain($"'{branch}'").And.Contain(reason));
    }

    [Test]
    public void EntryRangeOutsideTheTreeIsRejected()
    {
        var tree = OpenFiles.Tree("uproot-Zmumu.root", "events");
        Assert.Throws<RootFormatException>(() => tree.ReadColumn("px1", 0, tree.Entries + 1));
        Assert.Throws<RootFormatException>(() => tree.ReadColumn("px1", 10, 5));
    }

    private string CorruptFirstBasket(string name, string treeName, string branch, int fromEnd)
    {
        string path = Copy(name, null);
        long seek;
        int nbytes;
        using (var f = RootFile.Open(path))
        {
            var rec = f.GetTree(treeName).GetBranch(branch).Record;
            (seek, nbytes) = (rec.BasketSeek[0], rec.BasketBytes[0]);
        }
        var bytes = File.ReadAllBytes(path);
        bytes[seek + nbytes - fromEnd] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Copy(string name, Action<byte[]>? mutate, int length = -1)
    {
        var bytes = File.ReadAllBytes(TestData.RootFile(name));
        if (length >= 0) bytes = bytes[..length];
        mutate?.Invoke(bytes);
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    internal static void ReadEverything(string path)
    {
        using var file = RootFile.Open(path);
        _ = file.StreamerInfos.Count;
        foreach (var t in file.ListTrees())
        {
            var tree = file.GetTree(t);
            foreach (var b in tree.Branches.Where(b => b.IsReadable)) tree.ReadColumn(b.Name);
        }
    }
}
