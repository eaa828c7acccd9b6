// JsrootRoundTripTests: files written by RootTreeWriter are read back by jsroot (an independent
// JavaScript implementation of ROOT I/O) and must give exactly the values written.
using System.Text.Json;
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
[NonParallelizable]
public class JsrootRoundTripTests
{
    private string _dir = "";

    [OneTimeSetUp]
    public void Setup()
    {
        Jsroot.RequireOrIgnore();
        _dir = Directory.CreateTempSubdirectory("rootio-jsroot-").FullName;
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void JsrootReadsEveryWrittenBranchType()
    {
        var sample = new SampleTree(600, seed: 11, javascriptSafeInt64: true);
        string path = Path.Combine(_dir, "sample.root");
        sample.Write(path, chunkSize: 170, basketSize: 2048);

        var (entries, b) = Jsroot.Read(path, "sample", "f32", "f64", "i32", "i64", "flag", "vf", "vi");
        Assert.That(entries, Is.EqualTo(600));
        Assert.That(b["f32"].Select(x => x.GetDouble()), Is.EqualTo(sample.F32.Select(x => (double)x)));
        Assert.That(b["f64"].Select(x => x.GetDouble()), Is.EqualTo(sample.F64));
        Assert.That(b["i32"].Select(x => x.GetInt32()), Is.EqualTo(sample.I32));
        Assert.That(b["i64"].Select(x => x.GetInt64()), Is.EqualTo(sample.I64));
        Assert.That(b["flag"].Select(x => x.GetInt32() == 1), Is.EqualTo(sample.Flag));
        for (int e = 0; e < 600; e++)
        {
            int s = sample.Offsets[e], t = sample.Offsets[e + 1];
            Assert.That(b["vf"][e].EnumerateArray().Select(x => x.GetDouble()), Is.EqualTo(sample.VF[s..t].Select(x => (double)x)), $"vf[{e}]");
            Assert.That(b["vi"][e].EnumerateArray().Select(x => x.GetInt32()), Is.EqualTo(sample.VI[s..t]), $"vi[{e}]");
        }
    }

    [Test]
    public void JsrootReadsTheSharedTestFileLikeUs()
    {
        // Sanity check of the harness itself on a ROOT-written file.
        string path = TestData.RootFile("uproot-HZZ-objects.root");
        var (entries, b) = Jsroot.Read(path, "events", "muonq");
        using var file = RootFile.Open(path);
        var ours = file.GetTree("events").ReadColumn("muonq");
        Assert.That(entries, Is.EqualTo(ours.EntryCount));
        var flat = b["muonq"].SelectMany(e => e.EnumerateArray().Select(x => x.GetInt32())).ToArray();
        Assert.That(flat, Is.EqualTo(ours.GetValues<int>()));
    }
}
