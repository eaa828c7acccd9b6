// DatasetTests: several files of a folder read as one dataset, streamed chunk by chunk.
using Hep.RootIO.Dataset;
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
public class DatasetTests
{
    [Test]
    public void FolderOfFilesReadsAsOneDataset()
    {
        string dir = Directory.CreateTempSubdirectory("rootio-dataset-").FullName;
        try
        {
            var parts = new[] { new SampleTree(300, 1), new SampleTree(0, 2), new SampleTree(450, 3) };
            for (int i = 0; i < parts.Length; i++) parts[i].Write(Path.Combine(dir, $"part{i}.root"), 100, 2048);
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a root file");

            var ds = RootDataset.FromFolder(dir, "sample");
            Assert.That(ds.Files, Has.Count.EqualTo(3));
            Assert.That(ds.Entries, Is.EqualTo(750));
            var vf = ds.ReadColumn("vf");
            Assert.That(vf.GetValues<float>(), Is.EqualTo(parts.SelectMany(p => p.VF)));
            Assert.That(vf.EntryCount, Is.EqualTo(750));
            Assert.That(vf.EntryRange(300), Is.EqualTo((parts[0].VF.Length, parts[0].VF.Length + parts[2].Offsets[1])));

            long next = 0;
            var i64 = new List<long>();
            foreach (var chunk in ds.IterateChunks(["i64"], 128))
            {
                Assert.That(chunk.EntryStart, Is.EqualTo(next));
                Assert.That(chunk.EntryCount, Is.LessThanOrEqualTo(128));
                next += chunk.EntryCount;
                i64.AddRange(chunk["i64"].GetValues<long>());
            }
            Assert.That(i64, Is.EqualTo(parts.SelectMany(p => p.I64)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void MissingFolderOrFilesAreReported()
    {
        Assert.Throws<DirectoryNotFoundException>(() => RootDataset.FromFolder("/nonexistent/folder", "t"));
        string empty = Directory.CreateTempSubdirectory("rootio-empty-").FullName;
        Assert.Throws<FileNotFoundException>(() => RootDataset.FromFolder(empty, "t"));
        Directory.Delete(empty);
    }
}
