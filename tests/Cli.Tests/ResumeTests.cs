using Hep.Models.Checkpoints;

namespace Hep.Cli.Tests;

/// <summary>Resuming from last.ckpt continues exactly: the same weights, batch-norm statistics and optimiser state as the uninterrupted run.</summary>
[NonParallelizable]
public class ResumeTests
{
    private static readonly string[] Common = ["--arch", "PN-Lite", "--synthetic_jets", "120", "--batch_size", "40", "--fixed_length", "32",
        "--fcs=[[32,0.3]]", "--flip_rate", "0.5", "--optimizer", "adamw", "--learning_rate", "0.003"];

    private string _dir = "";

    [SetUp]
    public void MakeDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "hep-resume-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, true);

    private string Train(string name, int epochs, int seed, bool resume = false)
    {
        string exp = Path.Combine(_dir, name);
        var log = new StringWriter();
        string[] args = [.. Common, "--epochs", $"{epochs}", "--seed", $"{seed}", "--exp_dir", exp, .. (resume ? new[] { "--resume" } : [])];
        Assert.That(Program.Run(args, log), Is.EqualTo(0), log.ToString());
        if (resume) Assert.That(log.ToString(), Does.Contain("resume: continuing after epoch 1"));
        Assert.That(log.ToString(), Does.Match(@"epoch \d/\d  loss \d\.\d{4}  train acc \d\.\d{4}  \d+ jets/s"), "per-epoch line with throughput");
        return Path.Combine(exp, "last.ckpt");
    }

    private static Dictionary<string, double[]> Tensors(string path) =>
        SafeTensors.Read(path).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubles());

    private static double MaxDifference(Dictionary<string, double[]> a, Dictionary<string, double[]> b)
    {
        Assert.That(a.Keys, Is.EquivalentTo(b.Keys));
        return a.Keys.Max(k => a[k].Zip(b[k], (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max());
    }

    [Test]
    public void ResumedRunEqualsUninterruptedRun()
    {
        var straight = Tensors(Train("straight", 3, seed: 5));
        Train("interrupted", 1, seed: 5);
        var resumed = Tensors(Train("interrupted", 3, seed: 5, resume: true));
        Assert.That(resumed.Keys.Count(k => k.StartsWith("optimizer.", StringComparison.Ordinal)), Is.GreaterThan(0), "optimiser state is checkpointed");
        Assert.That(MaxDifference(straight, resumed), Is.EqualTo(0), "bit-identical weights, buffers and optimiser state");
        Assert.That(ModelCheckpoint.Inspect(Path.Combine(_dir, "interrupted", "last.ckpt")).Epoch, Is.EqualTo(3));
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "interrupted", "metrics.jsonl")), Has.Length.EqualTo(3), "the metrics log continues");

        // The comparison is sensitive: another seed gives different weights.
        var other = Tensors(Train("other", 3, seed: 6));
        Assert.That(MaxDifference(straight, other), Is.GreaterThan(1e-4));
    }

    [Test]
    public void ResumeWithoutCheckpointIsAnError()
    {
        var ex = Assert.Throws<Options.CliException>(() => Program.Run([.. Common, "--epochs", "1", "--exp_dir", Path.Combine(_dir, "none"), "--resume"], TextWriter.Null));
        Assert.That(ex!.Message, Does.StartWith("flag --resume: no checkpoint").And.Contain("last.ckpt"));
    }
}
