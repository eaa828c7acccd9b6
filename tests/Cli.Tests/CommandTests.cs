using Hep.Cli.Options;
using Hep.RootIO;

namespace Hep.Cli.Tests;

/// <summary>Device selection, selfcheck and convert sub-commands.</summary>
[NonParallelizable]
public class CommandTests
{
    [Test]
    public void AbsentGpuIsAnErrorNamingTheFlag()
    {
        var ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "MLP", "--gpu", "3"], TextWriter.Null));
        Assert.That(ex!.Message, Does.StartWith("flag --gpu"));
        ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "MLP", "--device", "tpu"], TextWriter.Null));
        Assert.That(ex!.Message, Does.StartWith("flag --device"));
    }

    [Test]
    public void TrainingRunsOnTheIlgpuCpuAcceleratorAndSaysSo()
    {
        var log = new StringWriter();
        var dir = Path.Combine(Path.GetTempPath(), "hep-ilgpu-" + Guid.NewGuid().ToString("N"));
        try
        {
            int rc = Program.Run(["--arch", "MLP", "--device", "ilgpu-cpu", "--epochs", "1", "--synthetic_jets", "300", "--batch_size", "100",
                "--exp_dir", dir], log);
            Assert.That(rc, Is.EqualTo(0), log.ToString());
            Assert.That(log.ToString(), Does.Contain("device: ilgpu-cpu"));
            Assert.That(File.Exists(Path.Combine(dir, "predict_output", "predictions.root")), Is.True);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Test]
    public void SelfCheckPassesOnTheIlgpuCpuAccelerator()
    {
        var log = new StringWriter();
        int rc = Program.Run(["selfcheck", "--device", "ilgpu-cpu"], log);
        Assert.That(rc, Is.EqualTo(0), log.ToString());
        Assert.That(log.ToString(), Does.Match(@"selfcheck: [1-9]\d* passed, 0 failed"));
    }

    [Test]
    public void ConvertWritesAReadableJetClassFile()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "Engine.sln"))) dir = dir.Parent;
        string npy = Path.Combine(dir.FullName, "..", "shared", "data", "jetclass-hbb-2k");
        string folder = Path.Combine(Path.GetTempPath(), $"hep-convert-{Guid.NewGuid():N}");
        string output = Path.Combine(folder, "new", "hbb.root");
        try
        {
            Assert.That(Program.Run(["convert", npy, output], TextWriter.Null), Is.EqualTo(0), "the output folder is created");
            using var file = RootFile.Open(output);
            var tree = file.GetTree("tree");
            Assert.That(tree.Entries, Is.EqualTo(2000));
            Assert.That(tree.Branches.Select(b => b.Name), Does.Contain("part_px").And.Contain("jet_pt"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        var ex = Assert.Throws<CliException>(() => Program.Run(["convert", "/nonexistent", output], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("/nonexistent"));
    }
}
