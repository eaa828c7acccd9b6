using Hep.Cli.Options;

namespace Hep.Cli.Tests;

/// <summary>The tabular path: the seed-002 style MLP on the real HIGGS CSV subset.</summary>
[NonParallelizable]
public class CsvTests
{
    private string _dir = "";

    [SetUp]
    public void Setup()
    {
        var root = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (!File.Exists(Path.Combine(root!.FullName, "Engine.sln"))) root = root.Parent;
        Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "hep-csv-" + Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(Path.Combine(_dir, "data"));
        // Gzip a copy to exercise .csv.gz reading without touching ../shared.
        using var src = File.OpenRead(Path.Combine(root.FullName, "..", "shared", "data", "higgs-uci-subset", "higgs.csv"));
        using var dst = new System.IO.Compression.GZipStream(File.Create(Path.Combine(_dir, "data", "higgs.csv.gz")), System.IO.Compression.CompressionLevel.Fastest);
        src.CopyTo(dst);
    }

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    [Test]
    public void MlpLearnsHiggs()
    {
        var log = new StringWriter();
        int rc = Program.Run(["--arch", "MLP", "--data_root", Path.Combine(_dir, "data"), "--epochs", "4", "--batch_size", "128", "--learning_rate", "0.001",
            "--optimizer", "adamw", "--weight_decay", "1e-4", "--exp_dir", Path.Combine(_dir, "exp"), "--predict_format", "csv"], log);
        Assert.That(rc, Is.EqualTo(0), log.ToString());
        Assert.That(log.ToString(), Does.Contain("10984 rows × 28 features"));
        double auc = double.Parse(log.ToString().Split("final validation:")[1].Split("AUC ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(auc, Is.GreaterThan(0.7));
        var lines = File.ReadAllLines(Path.Combine(_dir, "exp", "predict_output", "predictions.csv"));
        Assert.That(lines[0], Is.EqualTo("score_label_0,score_label_1,label_0,label_1"));
        int heldOut = Enumerable.Range(0, 10984).Count(id => Hep.Cli.Data.Seeds.IsValidation(42, 0.2, id));
        Assert.That(heldOut, Is.InRange(2100, 2300), "the hash split holds out about 20%");
        Assert.That(lines.Length, Is.EqualTo(1 + heldOut));
    }

    [Test]
    public void MissingLabelColumnIsNamed()
    {
        var ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "MLP", "--data_root", Path.Combine(_dir, "data"), "--labels=[\"is_signal\"]"], TextWriter.Null));
        Assert.That(ex!.Message, Does.StartWith("flag --labels: column 'is_signal'"));
    }
}
