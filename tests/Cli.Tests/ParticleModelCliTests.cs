using Hep.Cli.Options;

namespace Hep.Cli.Tests;

/// <summary>The particle-level architectures train through the CLI; their flag errors name the flag.</summary>
[NonParallelizable]
public class ParticleModelCliTests
{
    private static string Run(params string[] args)
    {
        var log = new StringWriter();
        var dir = Path.Combine(Path.GetTempPath(), "hep-pm-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.That(Program.Run([.. args, "--exp_dir", dir], log), Is.EqualTo(0), log.ToString());
            Assert.That(File.Exists(Path.Combine(dir, "predict_output", "predictions.root")), Is.True);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
        return log.ToString();
    }

    [TestCase("PN-Lite")]
    [TestCase("PFN")]
    public void OneEpochOnSyntheticJets(string arch)
    {
        var log = Run("--arch", arch, "--epochs", "1", "--synthetic_jets", "160", "--batch_size", "32", "--fixed_length", "40",
            "--learning_rate", "0.005", "--optimizer", "adamw");
        Assert.That(log, Does.Contain("final validation: accuracy"));
        Assert.That(log, Does.Contain("parameters"));
    }

    [Test]
    public void SmallParticleTransformerTrains()
    {
        var log = Run("--arch", "ParT", "--num_heads", "2", "--num_layers", "1", "--epochs", "1", "--synthetic_jets", "64", "--batch_size", "32",
            "--fixed_length", "24", "--learning_rate", "0.001", "--optimizer", "adamw");
        Assert.That(log, Does.Contain("heads 2 layers 1"));
    }

    [TestCase(new[] { "--arch", "PN", "--fixed_length", "10" }, "flag --fixed_length: 10 is smaller than k + 1 = 17")]
    [TestCase(new[] { "--arch", "PN", "--EdgeConv_config=[[16, 64]]" }, "flag --EdgeConv_config")]
    [TestCase(new[] { "--arch", "GNN" }, "flag --arch: unknown architecture 'GNN'")]
    [TestCase(new[] { "--arch", "PN", "--Processing_conditions=[{\"name\": \"part_mass\"}, {\"name\": \"part_dphi\"}]" }, "flag --Processing_conditions: unknown variable 'part_mass'")]
    public void BadModelFlags(string[] args, string message)
    {
        var ex = Assert.Throws<CliException>(() => Program.Run([.. args, "--synthetic_jets", "20"], TextWriter.Null));
        Assert.That(ex!.Message, Does.StartWith(message));
    }
}
