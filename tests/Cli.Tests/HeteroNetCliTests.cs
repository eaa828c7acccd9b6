using Hep.Cli.Options;
using Hep.RootIO;

namespace Hep.Cli.Tests;

/// <summary>`hep --arch HeteroNet`: trains on generated event graphs, writes checkpoints, metrics and predictions; infer reproduces the scores.</summary>
[NonParallelizable]
public class HeteroNetCliTests
{
    private string _tmp = "";

    [SetUp]
    public void MakeTemp() => Directory.CreateDirectory(_tmp = Path.Combine(Path.GetTempPath(), "hep-hetero-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveTemp() => Directory.Delete(_tmp, recursive: true);

    private static readonly string[] Small = ["--arch", "HeteroNet", "--num_layers", "2", "--batch_size", "16", "--seed", "4", "--Observables", "[\"event_number\"]"];

    private static Dictionary<float, float> ScoresByEvent(string path)
    {
        using var file = RootFile.Open(path);
        var tree = file.GetTree("tree");
        var events = tree.ReadColumn("event_number").GetValues<float>();
        var llp = tree.ReadColumn("score_label_llp").GetValues<float>();
        var bkg = tree.ReadColumn("score_label_bkg").GetValues<float>();
        for (int i = 0; i < llp.Length; i++) Assert.That(llp[i] + bkg[i], Is.EqualTo(1).Within(1e-5), "class probabilities");
        return events.Zip(llp).ToDictionary(p => p.First, p => p.Second);
    }

    [Test]
    public void TrainsWritesCheckpointsAndInferReproducesScores()
    {
        string data = Path.Combine(_tmp, "graphs.root"), exp = Path.Combine(_tmp, "exp");
        Assert.That(Program.Run(["generate-graphs", "--out", data, "--events", "60", "--seed", "2"], TextWriter.Null), Is.EqualTo(0));
        var log = new StringWriter();
        Assert.That(Program.Run([.. Small, "--data_root", data, "--epochs", "1", "--exp_dir", exp, "--optimizer", "adamw"], log), Is.EqualTo(0), log.ToString());
        int held = Enumerable.Range(0, 60).Count(r => Data.Seeds.IsValidation(4, 0.2, r));
        Assert.That(held, Is.InRange(5, 20));
        Assert.That(log.ToString(), Does.Contain($"{60 - held} training / {held} validation events").And.Contain("predictions:"));
        Assert.That(File.Exists(Path.Combine(exp, "best.ckpt")) && File.Exists(Path.Combine(exp, "last.ckpt")), Is.True);
        Assert.That(File.ReadAllLines(Path.Combine(exp, "metrics.jsonl")), Has.Length.EqualTo(1));
        var trained = ScoresByEvent(Path.Combine(exp, "predict_output", "predictions.root"));
        Assert.That(File.ReadAllBytes(Path.Combine(exp, "predict_output", "roc.png")).Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        Assert.That(trained, Has.Count.EqualTo(held));

        string inferOut = Path.Combine(_tmp, "infer");
        log = new StringWriter();
        Assert.That(Program.Run([.. Small, "--data_root", data, "--mode", "infer", "--load_model", Path.Combine(exp, "best.ckpt"), "--predict_output", inferOut], log),
            Is.EqualTo(0), log.ToString());
        Assert.That(log.ToString(), Does.Contain("loaded checkpoint"));
        var inferred = ScoresByEvent(Path.Combine(inferOut, "predictions.root"));
        Assert.That(inferred, Has.Count.EqualTo(60), "infer scores every event");
        foreach (var (ev, score) in trained) Assert.That(inferred[ev], Is.EqualTo(score).Within(1e-5), $"event {ev}");

        // A checkpoint only fits data with its features and classes, and only HeteroNet checkpoints are accepted.
        var ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "HeteroNet", "--data_root", data, "--mode", "infer", "--labels", "[\"label_llp\",\"label_bkg\"]",
            "--load_model", Path.Combine(exp, "best.ckpt"), "--predict_output", Path.Combine(_tmp, "x")], TextWriter.Null));
        Assert.That(ex!.Message, Does.StartWith("flag --load_model").And.Contain("classes"));
        string pn = Path.Combine(_tmp, "pn");
        Assert.That(Program.Run(["--arch", "PFN", "--synthetic_jets", "40", "--batch_size", "20", "--fixed_length", "16", "--epochs", "1", "--exp_dir", pn], TextWriter.Null), Is.EqualTo(0));
        ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "HeteroNet", "--data_root", data, "--mode", "infer",
            "--load_model", Path.Combine(pn, "best.ckpt"), "--predict_output", Path.Combine(_tmp, "x")], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("not a HeteroNet checkpoint"));
        Assert.That(Directory.Exists(Path.Combine(_tmp, "x")), Is.False, "nothing written");
    }

    [Test]
    public void ResumeReproducesTheUninterruptedRun()
    {
        string data = Path.Combine(_tmp, "graphs.root"), whole = Path.Combine(_tmp, "whole"), parts = Path.Combine(_tmp, "parts");
        Assert.That(Program.Run(["generate-graphs", "--out", data, "--events", "40", "--seed", "6"], TextWriter.Null), Is.EqualTo(0));
        string[] run = [.. Small, "--data_root", data, "--optimizer", "adamw", "--learning_rate", "0.003"];
        Assert.That(Program.Run([.. run, "--epochs", "2", "--exp_dir", whole], TextWriter.Null), Is.EqualTo(0));
        Assert.That(Program.Run([.. run, "--epochs", "1", "--exp_dir", parts], TextWriter.Null), Is.EqualTo(0));
        var log = new StringWriter();
        Assert.That(Program.Run([.. run, "--epochs", "2", "--exp_dir", parts, "--resume"], log), Is.EqualTo(0), log.ToString());
        Assert.That(log.ToString(), Does.Contain("resume: continuing after epoch 1"));
        static string Epoch2(string dir) => System.Text.RegularExpressions.Regex.Replace(File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))[1],
            "\"(items_per_s|time)\":[^,}]*", "");
        Assert.That(Epoch2(parts), Is.EqualTo(Epoch2(whole)), "epoch 2 loss, accuracy and validation metrics");
        Assert.That(ScoresByEvent(Path.Combine(parts, "predict_output", "predictions.root")),
            Is.EqualTo(ScoresByEvent(Path.Combine(whole, "predict_output", "predictions.root"))));
    }

    [Test]
    public void LearnsToSeparateDisplacedDecaysFromBackground()
    {
        string data = Path.Combine(_tmp, "graphs.root"), exp = Path.Combine(_tmp, "exp");
        Assert.That(Program.Run(["generate-graphs", "--out", data, "--events", "400", "--seed", "8"], TextWriter.Null), Is.EqualTo(0));
        var log = new StringWriter();
        Assert.That(Program.Run(["--arch", "HeteroNet", "--num_layers", "2", "--batch_size", "32", "--seed", "4", "--data_root", data, "--epochs", "3",
            "--exp_dir", exp, "--optimizer", "adamw", "--learning_rate", "0.003", "--weight_decay", "0.01"], log), Is.EqualTo(0), log.ToString());
        var last = File.ReadAllLines(Path.Combine(exp, "metrics.jsonl"))[^1];
        double auc = System.Text.Json.JsonDocument.Parse(last).RootElement.GetProperty("val_auc").GetDouble();
        Assert.That(auc, Is.GreaterThan(0.85), log.ToString());
    }
}
