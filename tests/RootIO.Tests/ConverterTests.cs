// ConverterTests: the .npy jet subsets converted to JetClass-layout ROOT files: entry and particle
// counts, per-particle values equal to the masked .npy values, jet kinematics against the
// physics facts stated in the datasets' READMEs, label counts, and a jsroot read of the output.
using Hep.RootIO.Conversion;
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
public class ConverterTests
{
    private static string TopFolder => Path.Combine(TestData.SharedData, "toptagging-toplandscape-2k");
    private static string JetClassFolder => Path.Combine(TestData.SharedData, "jetclass-hbb-2k");
    private string _dir = "";

    [OneTimeSetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("rootio-convert-").FullName;

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void TopTaggingSubsetConvertsToJetClassLayout()
    {
        string output = Path.Combine(_dir, "top.root");
        var summary = JetNpyToRoot.Convert(TopFolder, output, chunkSize: 300);
        Assert.That(summary.Jets, Is.EqualTo(2000));
        Assert.That(summary.LabelBranches, Is.EqualTo(new[] { "label_QCD", "label_Top" }));
        Assert.That(summary.JetsPerLabel["label_Top"], Is.EqualTo(940)); // README: 940 top / 1060 QCD
        Assert.That(summary.JetsPerLabel["label_QCD"], Is.EqualTo(1060));
        Assert.That(summary.MaxParticlesPerJet, Is.EqualTo(114)); // README: max 114

        var mask = NpyArray.Load(Path.Combine(TopFolder, "tl_pf_mask.npy")).As<float>();
        var vectors = NpyArray.Load(Path.Combine(TopFolder, "tl_pf_vectors.npy")).As<float>();
        var points = NpyArray.Load(Path.Combine(TopFolder, "tl_pf_points.npy")).As<float>();
        Assert.That(summary.Particles, Is.EqualTo(mask.Count(m => m == 1)));

        using var file = RootFile.Open(output);
        var tree = file.GetTree("tree");
        Assert.That(tree.Entries, Is.EqualTo(2000));
        foreach (var b in JetNpyToRoot.ParticleBranches) Assert.That(tree.GetBranch(b).TypeName, Is.EqualTo("vector<float>"));
        foreach (var b in JetNpyToRoot.JetBranches) Assert.That(tree.GetBranch(b).TypeName, Is.EqualTo("float"));

        // Particle values: the masked entries of the padded arrays, in order.
        var px = tree.ReadColumn("part_px");
        var dphi = tree.ReadColumn("part_dphi");
        foreach (int jet in new[] { 0, 1, 777, 1999 })
        {
            var expectedPx = Enumerable.Range(0, 128).Where(k => mask[jet * 128 + k] == 1).Select(k => vectors[(jet * 4 + 0) * 128 + k]).ToArray();
            var expectedDphi = Enumerable.Range(0, 128).Where(k => mask[jet * 128 + k] == 1).Select(k => points[(jet * 2 + 1) * 128 + k]).ToArray();
            var (s, t) = px.EntryRange(jet);
            Assert.That(px.GetValues<float>()[s..t], Is.EqualTo(expectedPx), $"part_px of jet {jet}");
            Assert.That(dphi.GetValues<float>()[s..t], Is.EqualTo(expectedDphi), $"part_dphi of jet {jet}");
        }

        // Jet kinematics: README says jet pT 550-650 GeV; median mass 174.2 GeV (top) vs 83.1 GeV (QCD).
        var pt = tree.ReadColumn("jet_pt").GetValues<float>();
        Assert.That(pt.Min(), Is.GreaterThan(540f));
        Assert.That(pt.Max(), Is.LessThan(660f));
        var isTop = tree.ReadColumn("label_Top").GetValues<bool>();
        var mass = JetMasses(tree);
        Assert.That(Median(mass.Where((_, i) => isTop[i])), Is.EqualTo(174.2).Within(1.0));
        Assert.That(Median(mass.Where((_, i) => !isTop[i])), Is.EqualTo(83.1).Within(1.0));
        var n = tree.ReadColumn("jet_nparticles").GetValues<float>();
        Assert.That(n.Select(x => (double)x).Sum(), Is.EqualTo(summary.Particles));
    }

    [Test]
    public void JetClassSubsetConvertsWithTenLabels()
    {
        string output = Path.Combine(_dir, "hbb.root");
        var summary = JetNpyToRoot.Convert(JetClassFolder, output, treeName: "tree", chunkSize: 500);
        Assert.That(summary.LabelBranches, Has.Count.EqualTo(10));
        Assert.That(summary.LabelBranches[1], Is.EqualTo("label_Hbb"));
        Assert.That(summary.JetsPerLabel["label_Hbb"], Is.EqualTo(2000)); // README: all rows Hbb
        using var file = RootFile.Open(output);
        var tree = file.GetTree("tree");
        Assert.That(tree.ReadColumn("label_Hbb").GetValues<bool>().All(x => x), Is.True);
        Assert.That(tree.ReadColumn("label_QCD").GetValues<bool>().Any(x => x), Is.False);
        // README: median jet mass of the constituent sum 119.5 GeV.
        Assert.That(Median(JetMasses(tree)), Is.EqualTo(119.5).Within(1.0));
    }

    [Test]
    public void JsrootReadsTheConvertedFile()
    {
        Jsroot.RequireOrIgnore();
        string output = Path.Combine(_dir, "top-js.root");
        JetNpyToRoot.Convert(TopFolder, output);
        var (entries, b) = Jsroot.Read(output, "tree", "part_energy", "jet_pt", "label_Top");
        using var file = RootFile.Open(output);
        var tree = file.GetTree("tree");
        Assert.That(entries, Is.EqualTo(2000));
        var energy = tree.ReadColumn("part_energy");
        var jsEnergy = b["part_energy"].SelectMany(e => e.EnumerateArray().Select(x => (float)x.GetDouble())).ToArray();
        Assert.That(jsEnergy, Is.EqualTo(energy.GetValues<float>()));
        Assert.That(b["jet_pt"].Select(x => (float)x.GetDouble()), Is.EqualTo(tree.ReadColumn("jet_pt").GetValues<float>()));
        Assert.That(b["label_Top"].Count(x => x.GetInt32() == 1), Is.EqualTo(940));
    }

    [Test]
    public void MissingInputsAreReportedClearly()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => JetNpyToRoot.Convert(_dir, Path.Combine(_dir, "x.root")));
        Assert.That(ex!.Message, Does.Contain("_pf_vectors.npy"));
        Assert.That(File.Exists(Path.Combine(_dir, "x.root")), Is.False);
    }

    private static double[] JetMasses(Trees.RootTree tree)
    {
        var cols = tree.ReadColumns(["part_px", "part_py", "part_pz", "part_energy"]);
        var px = cols["part_px"];
        var result = new double[tree.Entries];
        for (int j = 0; j < result.Length; j++)
        {
            var (s, t) = px.EntryRange(j);
            double x = 0, y = 0, z = 0, e = 0;
            for (int k = s; k < t; k++)
            {
                x += cols["part_px"].GetDouble(k);
                y += cols["part_py"].GetDouble(k);
                z += cols["part_pz"].GetDouble(k);
                e += cols["part_energy"].GetDouble(k);
            }
            result[j] = Math.Sqrt(Math.Max(0, e * e - x * x - y * y - z * z));
        }
        return result;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }
}
