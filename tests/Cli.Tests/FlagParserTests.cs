using Hep.Cli.Options;

namespace Hep.Cli.Tests;

/// <summary>The users' exact command line parses; bad flags fail with one line naming the flag.</summary>
public class FlagParserTests
{
    // Seed 001's command, argument by argument as the shell passes it (quotes removed by the shell).
    private static readonly string[] SeedCommand =
    [
        "--batch_size", "512", "--learning_rate", "0.001", "--epochs", "3", "--momentum", "0.9", "--weight_decay", "5.e-4",
        "--arch", "ParT", "--num_heads=4", "--num_layers=4",
        "--EdgeConv_config=[[16, [64, 64, 64]], [16, [128, 128, 128]], [16, [256, 256, 256]]]", "--fcs=[[256, 0.1]]",
        "--data_root", "/aifs/user/home/zhuyf/LHAASO/dataset/L100/finetune/L100_FT_3", "--exp_dir", "/aifs/user/home/zhuyf/Mine/save/test",
        "--mode", "train", "--load_model", "/aifs/save/test/best.pth", "--predict_output", "/aifs/save/predict_output",
        "--Processing_conditions=[{\"name\": \"part_deta\", \"subtract\": 0, \"multiply\": 1, \"min\": -5, \"max\": 5}]",
        "--labels=[\"label_s\",\"label_b\"]", "--Observables=[\"jet_energy\"]", "--fixed_length", "100", "--labelSmoothing", "0.",
        "--flip_rate", "0.", "--gpu", "0",
    ];

    [Test]
    public void SeedCommandParsesWithTypedValues()
    {
        var f = ParsedFlags.Parse(SeedCommand);
        Assert.That(f.Int("batch_size"), Is.EqualTo(512));
        Assert.That(f.Double("weight_decay"), Is.EqualTo(5e-4));
        Assert.That(f.String("arch"), Is.EqualTo("ParT"));
        Assert.That(f.Int("num_heads"), Is.EqualTo(4));
        var edge = f.Json<System.Text.Json.JsonElement[][]>("EdgeConv_config")!;
        Assert.That(edge.Length, Is.EqualTo(3));
        Assert.That(edge[2][1][0].GetInt32(), Is.EqualTo(256));
        Assert.That(f.Json<string[]>("labels"), Is.EqualTo(new[] { "label_s", "label_b" }));
        Assert.That(f.OptionalInt("gpu"), Is.EqualTo(0));
        Assert.That(f.Double("labelSmoothing"), Is.EqualTo(0));
    }

    [TestCase(new[] { "--bogus", "1" }, "unknown flag --bogus")]
    [TestCase(new[] { "--fcs=[[256, 0.1]" }, "flag --fcs: malformed JSON")]
    [TestCase(new[] { "--batch_size", "many" }, "flag --batch_size: 'many' is not an integer")]
    [TestCase(new[] { "--epochs" }, "flag --epochs needs a value")]
    [TestCase(new[] { "--epochs", "1", "--epochs=2" }, "flag --epochs given more than once")]
    [TestCase(new[] { "--learning_rate", "nan" }, "flag --learning_rate: 'nan' is not a finite number")]
    public void BadFlagsGiveOneLineNamingTheFlag(string[] args, string message)
    {
        var ex = Assert.Throws<CliException>(() => ParsedFlags.Parse(args));
        Assert.That(ex!.Message, Does.StartWith(message));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void MainReturnsNonZeroAndWritesNothingOnBadInput()
    {
        Assert.That(Program.Main(["--bogus"]), Is.EqualTo(2));
        Assert.That(Program.Main(["--gpu", "3"]), Is.EqualTo(2));
    }

    [Test]
    public void HelpDocumentsEveryFlag()
    {
        var sw = new StringWriter();
        Assert.That(Program.Run(["--help"], sw), Is.EqualTo(0));
        foreach (var f in Flags.All) Assert.That(sw.ToString(), Does.Contain("--" + f.Name));
        foreach (var command in new[] { "selfcheck", "convert", "generate-graphs", "convert-graphs" })
            Assert.That(sw.ToString(), Does.Contain("hep " + command), "every subcommand is listed");
    }
}
