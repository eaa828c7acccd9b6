// WriterRoundTripTests: files written by RootTreeWriter read back with our reader give exactly
// the values written (all branch types, many baskets, chunked appends, compression on and off),
// and an unfinished writer leaves no file behind.
using Hep.RootIO.Tests.Support;
using Hep.RootIO.Trees;
using Hep.RootIO.Writing;

namespace Hep.RootIO.Tests;

[TestFixture]
public class WriterRoundTripTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("rootio-writer-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(1000, 97, 4096, 1)]
    [TestCase(1000, 1000, 1 << 20, 1)]
    [TestCase(333, 50, 2048, 0)]
    [TestCase(0, 10, 4096, 1)]
    public void WrittenValuesReadBackIdentically(int entries, int chunk, int basketSize, int level)
    {
        var sample = new SampleTree(entries, seed: 7);
        string path = Path.Combine(_dir, "rt.root");
        sample.Write(path, chunk, basketSize, level);

        using var file = RootFile.Open(path);
        Assert.That(file.ListTrees(), Is.EqualTo(new[] { "sample" }));
        var tree = file.GetTree("sample");
        Assert.That(tree.Entries, Is.EqualTo(entries));
        Assert.That(tree.Branches.Select(b => b.TypeName), Is.EqualTo(new[]
            { "float", "double", "int", "Long64_t", "bool", "vector<float>", "vector<int>" }));
        Assert.That(tree.ReadColumn("f32").GetValues<float>(), Is.EqualTo(sample.F32));
        Assert.That(tree.ReadColumn("f64").GetValues<double>(), Is.EqualTo(sample.F64));
        Assert.That(tree.ReadColumn("i32").GetValues<int>(), Is.EqualTo(sample.I32));
        Assert.That(tree.ReadColumn("i64").GetValues<long>(), Is.EqualTo(sample.I64));
        Assert.That(tree.ReadColumn("flag").GetValues<bool>(), Is.EqualTo(sample.Flag));
        var vf = tree.ReadColumn("vf");
        Assert.That(vf.GetValues<float>(), Is.EqualTo(sample.VF));
        Assert.That(vf.Offsets, Is.EqualTo(sample.Offsets));
        var vi = tree.ReadColumn("vi");
        Assert.That(vi.GetValues<int>(), Is.EqualTo(sample.VI));
        Assert.That(vi.Offsets, Is.EqualTo(sample.Offsets));
        if (entries > 0 && basketSize < 8192) Assert.That(tree.GetBranch("vf").BasketCount, Is.GreaterThan(3));
    }

    [Test]
    public void SubRangesAndChunksMatchTheFullRead()
    {
        var sample = new SampleTree(2000, seed: 3);
        string path = Path.Combine(_dir, "chunks.root");
        sample.Write(path, chunkSize: 123, basketSize: 2048);
        using var file = RootFile.Open(path);
        var tree = file.GetTree("sample");
        var slice = tree.ReadColumn("vf", 501, 1377);
        Assert.That(slice.EntryCount, Is.EqualTo(876));
        Assert.That(slice.GetValues<float>(), Is.EqualTo(sample.VF[sample.Offsets[501]..sample.Offsets[1377]]));
        var gathered = new List<double>();
        long entries = 0;
        foreach (var chunk in tree.IterateChunks(["f64", "vi"], 300))
        {
            Assert.That(chunk.EntryStart, Is.EqualTo(entries));
            entries += chunk.EntryCount;
            gathered.AddRange(chunk["f64"].GetValues<double>());
            Assert.That(chunk["vi"].EntryCount, Is.EqualTo(chunk.EntryCount));
        }
        Assert.That(entries, Is.EqualTo(2000));
        Assert.That(gathered, Is.EqualTo(sample.F64));
    }

    [Test]
    public void StreamerInfosAreWrittenForEveryTreeClass()
    {
        string path = Path.Combine(_dir, "si.root");
        new SampleTree(10, 1).Write(path, 10);
        using var file = RootFile.Open(path);
        var names = file.StreamerInfos.Select(s => s.ClassName).ToList();
        Assert.That(names, Is.SupersetOf(new[] { "TTree", "TBranch", "TBranchElement", "TLeafF", "TLeafElement", "vector<float>", "vector<int>" }));
        Assert.That(file.StreamerInfos.Single(s => s.ClassName == "TTree").ClassVersion, Is.EqualTo(20));
    }

    [Test]
    public void DisposeWithoutCompleteLeavesNoFile()
    {
        string path = Path.Combine(_dir, "partial.root");
        var sample = new SampleTree(100, 5);
        string temp;
        using (var w = new RootTreeWriter(path, "sample", SampleTree.Specs))
        {
            w.Append(100, sample.Chunk(0, 100));
            temp = w.TemporaryPath;
            Assert.That(File.Exists(temp), Is.True);
            Assert.That(File.Exists(path), Is.False);
        }
        Assert.That(File.Exists(path), Is.False);
        Assert.That(File.Exists(temp), Is.False);
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    [Test]
    public void RejectsMismatchedChunks()
    {
        string path = Path.Combine(_dir, "bad.root");
        using var w = new RootTreeWriter(path, "t", [BranchSpec.Scalar("x", RootValueType.Float32)]);
        Assert.Throws<ArgumentException>(() => w.Append(3, new Dictionary<string, WriteColumn> { ["x"] = WriteColumn.Scalars(new float[2]) }));
        Assert.Throws<ArgumentException>(() => w.Append(2, new Dictionary<string, WriteColumn> { ["x"] = WriteColumn.Scalars(new double[2]) }));
        Assert.Throws<ArgumentException>(() => w.Append(2, new Dictionary<string, WriteColumn>()));
        Assert.Throws<ArgumentException>(() => _ = new RootTreeWriter(path, "t", [BranchSpec.Vector("v", RootValueType.Float64)]));
    }
}
