// FuzzTests: seeded random byte flips in the real test files. Whatever breaks, the reader must
// either succeed or throw RootFormatException: no other exception type, no crash, no hang
// (each case runs under a time limit). The iteration count is bounded to keep CI fast.
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
public class FuzzTests
{
    private const int Iterations = 120;

    private static readonly string[] Files =
    [
        "uproot-simple.root", "uproot-small-flat-tree.root", "uproot-leaflist.root", "uproot-vectorVectorDouble.root",
        "uproot-sample-6.20.04-zlib.root", "uproot-sample-6.20.04-lz4.root", "uproot-sample-6.20.04-lzma.root",
        "uproot-sample-6.20.04-uncompressed.root", "uproot-stl_containers.root", "uproot-HZZ-zstd.root",
        "nanoAOD_2015_CMS_Open_Data_ttbar.root", "uproot-HZZ-objects.root",
    ];

    private static IEnumerable<TestCaseData> Seeds() =>
        Enumerable.Range(0, Files.Length).Select(i => new TestCaseData(Files[i], 1000 + i).SetName($"Fuzz({Files[i]})"));

    [TestCaseSource(nameof(Seeds))]
    public void RandomByteFlipsOnlyRaiseRootFormatException(string fileName, int seed)
    {
        var original = File.ReadAllBytes(TestData.RootFile(fileName));
        var rng = new Random(seed);
        string dir = Directory.CreateTempSubdirectory("rootio-fuzz-").FullName;
        int ours = 0, clean = 0;
        try
        {
            for (int iteration = 0; iteration < Iterations; iteration++)
            {
                var bytes = (byte[])original.Clone();
                int flips = 1 + rng.Next(4);
                // Half of the cases hit the metadata-rich start/end of the file, the rest anywhere.
                for (int k = 0; k < flips; k++)
                {
                    int pos = rng.Next(4) switch
                    {
                        0 => rng.Next(Math.Min(512, bytes.Length)),
                        1 => bytes.Length - 1 - rng.Next(Math.Min(4096, bytes.Length)),
                        _ => rng.Next(bytes.Length),
                    };
                    bytes[pos] ^= (byte)(1 + rng.Next(255));
                }
                string path = Path.Combine(dir, $"{iteration}.root");
                File.WriteAllBytes(path, bytes);
                var task = Task.Run(() => BadInputTests.ReadEverything(path));
                try
                {
                    Assert.That(task.Wait(TimeSpan.FromSeconds(30)), Is.True, $"{fileName} iteration {iteration}: reader hung");
                    clean++;
                }
                catch (AggregateException ae) when (ae.InnerException is RootFormatException rfe)
                {
                    Assert.That(rfe.Message, Does.Contain(path), "message names the file");
                    ours++;
                }
                catch (AggregateException ae)
                {
                    Assert.Fail($"{fileName} iteration {iteration} (seed {seed}): {ae.InnerException!.GetType().Name} escaped: {ae.InnerException}");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.That(ours + clean, Is.EqualTo(Iterations));
        TestContext.Out.WriteLine($"{fileName}: {ours} rejected with RootFormatException, {clean} read without error");
    }
}
