using Hep.Cli.Data;
using Hep.Cli.Options;
using Hep.RootIO;
using Hep.RootIO.Conversion;

namespace Hep.Cli.Tests;

/// <summary>Real data in (.npy and converted ROOT), features as weaver computes them, predictions.root out.</summary>
[NonParallelizable]
public class DataPipelineTests
{
    private static string Shared(string relative)
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        Assert.That(dir, Is.Not.Null, "repository root (Engine.sln) not found");
        return Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared", relative));
    }

    private static string TopTagging => Shared("data/toptagging-toplandscape-2k");

    private string _tmp = "";

    [SetUp]
    public void MakeTemp() => Directory.CreateDirectory(_tmp = Path.Combine(Path.GetTempPath(), "hep-cli-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveTemp() => Directory.Delete(_tmp, recursive: true);

    [Test]
    public void DerivedDetaDphiMatchTheDatasetsOwnPoints()
    {
        var (jets, _) = JetSources.Load(TopTagging, null, [], 128, TextWriter.Null);
        var (features, mask) = ParticleFeatures.Compute(jets, [new("part_deta", Min: -10, Max: 10), new("part_dphi", Min: -10, Max: 10)]);
        var points = NpyArray.Load(Path.Combine(TopTagging, "tl_pf_points.npy"));
        var reference = (float[])points.Data;
        double maxDiff = 0;
        for (int j = 0; j < 200; j++)
            for (int i = 0; i < jets.Counts[j]; i++)
                for (int k = 0; k < 2; k++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(features[(j * 2 + k) * 128 + i] - reference[(j * 2 + k) * 128 + i]));
        Assert.That(maxDiff, Is.LessThan(1e-5), "max |Δ| vs tl_pf_points.npy");
        Assert.That(mask.Take(128).Sum(), Is.EqualTo(jets.Counts[0]));
        Assert.That(jets.Labels.Count(l => l == 1), Is.EqualTo(940));
    }

    [Test]
    public void TrainOnConvertedRootWritesPredictionsRoot()
    {
        var data = Path.Combine(_tmp, "data");
        Directory.CreateDirectory(data);
        JetNpyToRoot.Convert(TopTagging, Path.Combine(data, "top.root"));
        var log = new StringWriter();
        int rc = Program.Run(["--arch", "MLP", "--data_root", data, "--epochs", "2", "--batch_size", "64", "--learning_rate", "0.02",
            "--Observables=[\"jet_pt\", \"jet_nparticles\"]", "--exp_dir", Path.Combine(_tmp, "exp")], log);
        Assert.That(rc, Is.EqualTo(0), log.ToString());
        using var file = RootFile.Open(Path.Combine(_tmp, "exp", "predict_output", "predictions.root"));
        var tree = file.GetTree("tree");
        Assert.That(tree.Branches.Select(b => b.Name), Is.EquivalentTo(new[]
            { "score_label_QCD", "score_label_Top", "jet_pt", "jet_nparticles", "label_QCD", "label_Top" }));
        var png = File.ReadAllBytes(Path.Combine(_tmp, "exp", "predict_output", "roc.png"));
        Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a ROC curve PNG beside the predictions");
        var s0 = tree.ReadColumn("score_label_QCD").GetValues<float>();
        var s1 = tree.ReadColumn("score_label_Top").GetValues<float>();
        Assert.That(s0.Length, Is.EqualTo(Enumerable.Range(0, 2000).Count(id => Seeds.IsValidation(42, 0.2, id))), "the held-out jets");
        for (int i = 0; i < s0.Length; i++) Assert.That(s0[i] + s1[i], Is.EqualTo(1f).Within(1e-5));
        var pt = tree.ReadColumn("jet_pt").GetValues<float>();
        Assert.That(pt.All(v => v is > 500 and < 700), Is.True, "observable copied unchanged");
        var top = tree.ReadColumn("label_Top").GetValues<bool>();
        var qcd = tree.ReadColumn("label_QCD").GetValues<bool>();
        Assert.That(top.Zip(qcd, (a, b) => a ^ b).All(x => x), Is.True, "one-hot labels");
        double auc = double.Parse(log.ToString().Split("final validation:")[1].Split("AUC ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(auc, Is.GreaterThan(0.9));
        var metrics = File.ReadAllLines(Path.Combine(_tmp, "exp", "metrics.jsonl"));
        Assert.That(metrics.Length, Is.EqualTo(2), "one JSON line per epoch");
        using var last = System.Text.Json.JsonDocument.Parse(metrics[1]);
        Assert.That(last.RootElement.GetProperty("epoch").GetInt32(), Is.EqualTo(2));
        Assert.That(last.RootElement.GetProperty("val_auc").GetDouble(), Is.EqualTo(auc).Within(1e-4));
    }

    [Test]
    public void BadDataInputsNameTheProblem()
    {
        var ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "MLP", "--data_root", Path.Combine(_tmp, "nope")], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("--data_root").And.Contain("does not exist"));
        ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "MLP", "--data_root", _tmp], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("no .root files"));
        var data = Path.Combine(_tmp, "data");
        Directory.CreateDirectory(data);
        JetNpyToRoot.Convert(TopTagging, Path.Combine(data, "top.root"));
        ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "MLP", "--data_root", data, "--Observables=[\"jet_mass_sd\"]"], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("--Observables").And.Contain("jet_mass_sd"));
        ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "MLP", "--data_root", data, "--labels=[\"label_QCD\",\"label_Wqq\"]"], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("--labels").And.Contain("label_Wqq"));
        Assert.That(Directory.Exists(Path.Combine(_tmp, "exp")), Is.False, "nothing written on bad input");
    }
}
