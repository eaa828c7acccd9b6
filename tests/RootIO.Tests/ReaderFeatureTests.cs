// ReaderFeatureTests: layouts and structures beyond the jsroot oracle: leaf-list members, baskets
// embedded in the TTree (nanoAOD), std::vector branches against the equivalent C-style jagged
// branches, branch listing and type names, streamer infos, entry ranges across basket borders.
using Hep.RootIO.Tests.Support;
using Hep.RootIO.Trees;

namespace Hep.RootIO.Tests;

[TestFixture]
public class ReaderFeatureTests
{
    [Test]
    public void LeafListMembersAreReadable()
    {
        var tree = OpenFiles.Tree("uproot-leaflist.root", "tree");
        var branch = tree.GetBranch("leaflist");
        Assert.That(branch.Layout, Is.EqualTo(BranchLayout.LeafList));
        Assert.That(branch.Members, Is.EqualTo(new[] { "leaflist.x", "leaflist.y", "leaflist.z" }));
        Assert.That(tree.ReadColumn("leaflist.x").GetValues<double>(), Is.EqualTo(new[] { 1.1, 2.2, 3.3, 4.0, 5.5 }));
        Assert.That(tree.ReadColumn("leaflist.y").GetValues<int>(), Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
        Assert.That(tree.ReadColumn("leaflist.z").GetValues<sbyte>(), Is.EqualTo("abcde".Select(c => (sbyte)c)));
        Assert.Throws<RootFormatException>(() => tree.ReadColumn("leaflist"));
    }

    [Test]
    public void BasketsEmbeddedInTheTreeAreRead()
    {
        var tree = OpenFiles.Tree("nanoAOD_2015_CMS_Open_Data_ttbar.root", "Events");
        var jetPt = tree.GetBranch("Jet_pt");
        Assert.That(jetPt.Record.WriteBasket, Is.EqualTo(0), "no basket on disk");
        Assert.That(jetPt.Record.EmbeddedBaskets, Has.Count.EqualTo(1));
        Assert.That(tree.Branches.Count, Is.GreaterThan(900));
        var col = tree.ReadColumn("Jet_pt", 2, 3);
        Assert.That(col.GetValues<float>(), Is.EqualTo(new[] { 72.6875f, 56.75f, 19.15625f, 16.703125f }));
    }

    [Test]
    public void StdVectorBranchesEqualTheirCStyleTwins()
    {
        // uproot-HZZ-objects.root stores the HZZ events with std::vector branches.
        var pairs = new[] { ("jetbtag", "Jet_btag"), ("jetid", "Jet_ID"), ("muonq", "Muon_Charge"), ("muoniso", "Muon_Iso") };
        var objects = OpenFiles.Tree("uproot-HZZ-objects.root", "events");
        foreach (var (vec, jagged) in pairs)
        {
            Assert.That(objects.GetBranch(vec).Layout, Is.EqualTo(BranchLayout.Vector));
            var a = OpenFiles.Column("uproot-HZZ-objects.root", "events", vec);
            var b = OpenFiles.Column("uproot-HZZ.root", "events", jagged);
            Assert.That(a.Values, Is.EqualTo(b.Values), vec);
            Assert.That(a.Offsets, Is.EqualTo(b.Offsets), vec);
        }
    }

    [Test]
    public void BranchesAreListedWithTypes()
    {
        var tree = OpenFiles.Tree("uproot-small-flat-tree.root", "tree");
        string Type(string b) => tree.GetBranch(b).TypeName;
        Assert.That(Type("Int64"), Is.EqualTo("Long64_t"));
        Assert.That(Type("UInt32"), Is.EqualTo("unsigned int"));
        Assert.That(Type("ArrayFloat64"), Is.EqualTo("double[10]"));
        Assert.That(Type("SliceInt32"), Is.EqualTo("int[N]"));
        Assert.That(tree.GetBranch("SliceInt32").CounterBranch, Is.EqualTo("N"));
        Assert.That(tree.GetBranch("Str").IsReadable, Is.False);
        var stl = OpenFiles.Tree("uproot-stl_containers.root", "tree");
        Assert.That(stl.GetBranch("vector_vector_int32").TypeName, Is.EqualTo("vector<vector<int>>"));
        Assert.That(OpenFiles.Get("uproot-HZZ.root").ListTrees(), Is.EqualTo(new[] { "events" }));
        Assert.That(OpenFiles.Get("uproot-HZZ.root").FormatVersion, Is.EqualTo(53201));
    }

    [Test]
    public void StreamerInfosAreParsed()
    {
        var infos = OpenFiles.Get("uproot-sample-6.20.04-zlib.root").StreamerInfos;
        var tree = infos.Single(i => i.ClassName == "TTree");
        Assert.That(tree.ClassVersion, Is.EqualTo(20));
        Assert.That(tree.Elements.Select(e => e.Name).Take(5), Is.EqualTo(new[] { "TNamed", "TAttLine", "TAttFill", "TAttMarker", "fEntries" }));
        Assert.That(infos.Single(i => i.ClassName == "TBranch").Elements.Single(e => e.Name == "fBasketSeek").CountName, Is.EqualTo("fMaxBaskets"));
    }

    [Test]
    public void RangesAcrossManySmallBasketsMatchTheFullRead()
    {
        var tree = OpenFiles.Tree("uproot-sample-6.20.04-uncompressed.root", "sample");
        Assert.That(tree.GetBranch("Ai4").BasketCount, Is.EqualTo(18));
        var full = tree.ReadColumn("Ai4");
        for (int start = 0; start < 30; start += 7)
            for (int stop = start; stop <= 30; stop += 5)
            {
                var part = tree.ReadColumn("Ai4", start, stop);
                var (s, _) = full.EntryRange(start);
                var (_, t) = stop > start ? full.EntryRange(stop - 1) : (s, s);
                Assert.That(part.GetValues<int>(), Is.EqualTo(full.GetValues<int>()[s..t]), $"[{start},{stop})");
                Assert.That(part.Offsets!.Length, Is.EqualTo(stop - start + 1));
            }
        var chunks = tree.IterateChunks(["Ai4", "f8"], 4).ToList();
        Assert.That(chunks.Sum(c => c.EntryCount), Is.EqualTo(30));
        Assert.That(ColumnConcat.Concat(chunks.Select(c => c["Ai4"]).ToList()).Values, Is.EqualTo(full.Values));
        Assert.That(ColumnConcat.Concat(chunks.Select(c => c["Ai4"]).ToList()).Offsets, Is.EqualTo(full.Offsets));
    }
}
