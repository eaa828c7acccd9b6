// CompressionVariantTests: every compression variant of a file (zlib, LZ4, LZMA, ZSTD, none, and
// the ROOT 5 original) must decode to bit-identical columns for every readable branch.
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
public class CompressionVariantTests
{
    private static IEnumerable<TestCaseData> Groups()
    {
        yield return new TestCaseData("events", new[] { "uproot-HZZ.root", "uproot-HZZ-zlib.root", "uproot-HZZ-lz4.root", "uproot-HZZ-lzma.root", "uproot-HZZ-zstd.root", "uproot-HZZ-uncompressed.root" })
            .SetName("Variants(HZZ)");
        yield return new TestCaseData("events", new[] { "uproot-Zmumu.root", "uproot-Zmumu-zlib.root", "uproot-Zmumu-lz4.root", "uproot-Zmumu-lzma.root", "uproot-Zmumu-zstd.root", "uproot-Zmumu-uncompressed.root" })
            .SetName("Variants(Zmumu)");
        yield return new TestCaseData("sample", new[] { "uproot-sample-6.20.04-zlib.root", "uproot-sample-6.20.04-lz4.root", "uproot-sample-6.20.04-lzma.root", "uproot-sample-6.20.04-uncompressed.root" })
            .SetName("Variants(sample-6.20.04)");
    }

    [TestCaseSource(nameof(Groups))]
    public void AllVariantsDecodeIdentically(string treeName, string[] files)
    {
        var reference = OpenFiles.Tree(files[0], treeName);
        var branches = reference.Branches.Where(b => b.IsReadable).Select(b => b.Name).ToList();
        Assert.That(branches, Has.Count.GreaterThan(10));
        var codecs = new HashSet<int>();
        foreach (var f in files)
        {
            codecs.Add(OpenFiles.Get(f).CompressionSetting / 100);
            var tree = OpenFiles.Tree(f, treeName);
            Assert.That(tree.Branches.Where(b => b.IsReadable).Select(b => b.Name), Is.EqualTo(branches), f);
            foreach (var b in branches)
            {
                var expected = OpenFiles.Column(files[0], treeName, b);
                var actual = OpenFiles.Column(f, treeName, b);
                Assert.That(actual.Values, Is.EqualTo(expected.Values), $"{f}:{b} values");
                Assert.That(actual.Offsets, Is.EqualTo(expected.Offsets), $"{f}:{b} offsets");
            }
        }
        Assert.That(codecs, Has.Count.GreaterThanOrEqualTo(files.Length - 2), "the group really spans several codecs");
    }
}
