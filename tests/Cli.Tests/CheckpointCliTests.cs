using Hep.Cli.Options;
using Hep.RootIO;

namespace Hep.Cli.Tests;

/// <summary>Train writes best/last checkpoints; --mode infer reloads them and reproduces the scores.</summary>
[NonParallelizable]
public class CheckpointCliTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "hep-ckpt-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, true);

    private static readonly string[] Common = ["--arch", "PN-Lite", "--synthetic_jets", "120", "--batch_size", "40", "--fixed_length", "32", "--seed", "9"];

    [Test]
    public void InferFromBestCheckpointReproducesValidationScores()
    {
        string exp = Path.Combine(_dir, "exp");
        Assert.That(Program.Run([.. Common, "--epochs", "1", "--exp_dir", exp, "--optimizer", "adamw", "--learning_rate", "0.003"], TextWriter.Null), Is.EqualTo(0));
        Assert.That(File.Exists(Path.Combine(exp, "best.ckpt")) && File.Exists(Path.Combine(exp, "last.ckpt")), Is.True);
        float[] trained = ReadScores(Path.Combine(exp, "predict_output", "predictions.root"));

        string inferOut = Path.Combine(_dir, "infer");
        var log = new StringWriter();
        Assert.That(Program.Run([.. Common, "--mode", "infer", "--load_model", Path.Combine(exp, "best.ckpt"), "--predict_output", inferOut], log), Is.EqualTo(0), log.ToString());
        Assert.That(log.ToString(), Does.Contain("loaded checkpoint"));
        float[] inferred = ReadScores(Path.Combine(inferOut, "predictions.root"));
        Assert.That(inferred.Length, Is.EqualTo(120), "infer predicts every jet");
        // The training run's predictions are the held-out 20%: each must appear among the inference scores.
        var set = inferred.Select(v => Math.Round(v, 5)).ToHashSet();
        int heldOut = Enumerable.Range(0, 120).Count(id => Hep.Cli.Data.Seeds.IsValidation(9, 0.2, id));
        Assert.That(heldOut, Is.InRange(12, 36), "the hash split holds out about 20%");
        Assert.That(trained.Length, Is.EqualTo(heldOut));
        Assert.That(trained.All(v => set.Contains(Math.Round(v, 5))), Is.True);
    }

    [Test]
    public void CheckpointOfAnotherArchitectureIsRejectedNamingKeys()
    {
        string exp = Path.Combine(_dir, "exp");
        Assert.That(Program.Run([.. Common, "--epochs", "1", "--exp_dir", exp], TextWriter.Null), Is.EqualTo(0));
        var ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "PFN", "--synthetic_jets", "20", "--mode", "infer",
            "--load_model", Path.Combine(exp, "best.ckpt"), "--predict_output", Path.Combine(_dir, "x")], TextWriter.Null));
        Assert.That(ex!.Message, Does.StartWith("flag --load_model"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "x")), Is.False, "nothing written");
        ex = Assert.Throws<CliException>(() => Program.Run([.. Common, "--mode", "infer"], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("--load_model"));
    }

    private static float[] ReadScores(string path)
    {
        using var file = RootFile.Open(path);
        return file.GetTree("tree").ReadColumn("score_label_Top").GetValues<float>();
    }
}
