// AllFilesSmokeTests: every .root file of the shared test folder opens, lists its trees, and
// every branch it reports as readable reads over all entries with one value row per entry;
// unreadable branches carry a reason. Also covers files outside the jsroot oracle.
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
public class AllFilesSmokeTests
{
    private static IEnumerable<TestCaseData> Files() =>
        Directory.GetFiles(TestData.RootFiles, "*.root").OrderBy(f => f).Select(f => new TestCaseData(Path.GetFileName(f)).SetName($"Smoke({Path.GetFileName(f)})"));

    [TestCaseSource(nameof(Files))]
    public void OpensAndReadsEveryReadableBranch(string name)
    {
        var file = OpenFiles.Get(name);
        var trees = file.ListTrees();
        Assert.That(trees, Is.Not.Empty);
        Assert.That(file.StreamerInfos.Select(s => s.ClassName), Does.Contain("TTree"));
        int readable = 0;
        foreach (var t in trees)
        {
            var tree = file.GetTree(t);
            Assert.That(tree.Entries, Is.GreaterThan(0));
            foreach (var b in tree.Branches)
            {
                if (!b.IsReadable)
                {
                    Assert.That(b.UnsupportedReason, Is.Not.Null.And.Not.Empty, $"{b.Name} has no reason");
                    continue;
                }
                var col = tree.ReadColumn(b.Name);
                Assert.That(col.EntryCount, Is.EqualTo(tree.Entries), b.Name);
                Assert.That(col.EntryRange(col.EntryCount - 1).Stop, Is.EqualTo(col.Values.Length), b.Name);
                readable++;
            }
        }
        bool objectsOnly = name is "uproot-mc10events.root" or "uproot-small-evnt-tree-fullsplit.root";
        Assert.That(readable, objectsOnly ? Is.EqualTo(0) : Is.GreaterThan(0));
    }
}
