using Hep.Cli.Data;
using Hep.Cli.Training;
using Hep.RootIO.Conversion;

namespace Hep.Cli.Tests;

/// <summary>
/// The data pipeline: ROOT data streamed in chunks with bounded memory, deterministic split and
/// per-epoch shuffles, the background prefetcher, flips, and the NaN policy.
/// </summary>
[NonParallelizable]
public class StreamingDataTests
{
    private string _dir = "";
    private string _data = "";

    [OneTimeSetUp]
    public void Convert()
    {
        Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "hep-stream-" + Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(_data = Path.Combine(_dir, "data"));
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        JetNpyToRoot.Convert(Path.Combine(dir!.FullName, "..", "shared", "data", "toptagging-toplandscape-2k"), Path.Combine(_data, "top.root"));
    }

    [OneTimeTearDown]
    public void Remove() => Directory.Delete(_dir, true);

    private RootJetStore Store(int chunk = 100) => new(_data, null, ["jet_pt"], 32, chunk, rejectNonFinite: false, TextWriter.Null);

    [Test]
    public void StreamedEpochVisitsEveryTrainingJetOnceWithBoundedMemory()
    {
        var store = Store();
        Assert.That(store.Count, Is.EqualTo(2000));
        var data = new JetTrainingData(store, ParticleFeatures.DefaultConditions, 64, 0.2, 7, 0, shuffleJets: 300);
        var ids = data.Train(0).SelectMany(b => b.Ids).ToList();
        var expected = Enumerable.Range(0, 2000).Select(i => (long)i).Where(i => !Seeds.IsValidation(7, 0.2, i)).ToList();
        Assert.That(ids, Is.EquivalentTo(expected), "each training jet exactly once");
        Assert.That(ids, Is.Not.EqualTo(expected), "shuffled");
        Assert.That(data.PeakBufferedJets, Is.LessThanOrEqualTo(300 + 100 + 64), "memory bounded by block + chunk + carried remainder");
        Assert.That(data.Train(0).SelectMany(b => b.Ids), Is.EqualTo(ids), "an epoch's order is a function of (seed, epoch)");
        Assert.That(data.Train(1).SelectMany(b => b.Ids), Is.Not.EqualTo(ids), "epochs differ");
        var validation = data.Validation().SelectMany(b => b.Ids).ToList();
        Assert.That(validation, Is.EqualTo(Enumerable.Range(0, 2000).Select(i => (long)i).Where(i => Seeds.IsValidation(7, 0.2, i))));
    }

    [Test]
    public void StreamedBatchesEqualInMemoryBatches()
    {
        var (jets, obs) = JetSources.Load(_data, null, ["jet_pt"], 32, TextWriter.Null);
        var streamed = new JetTrainingData(Store(), ParticleFeatures.DefaultConditions, 50, 0.2, 3, 0, 1000).Validation().ToList();
        var inMemory = new JetTrainingData(new InMemoryJetStore(jets, obs), ParticleFeatures.DefaultConditions, 50, 0.2, 3, 0, 1000).Validation().ToList();
        Assert.That(streamed.Select(b => b.Ids), Is.EqualTo(inMemory.Select(b => b.Ids)));
        Assert.That(streamed.SelectMany(b => b.Features), Is.EqualTo(inMemory.SelectMany(b => b.Features)));
        Assert.That(streamed.SelectMany(b => b.Observables["jet_pt"]), Is.EqualTo(inMemory.SelectMany(b => b.Observables["jet_pt"])));
        Assert.That(streamed.SelectMany(b => b.Observables["jet_pt"]).All(v => v > 100), Is.True, "jet pT carried through (GeV)");
    }

    [Test]
    public void FlipMirrorsEtaAndPhiOfAboutTheRequestedFraction()
    {
        var jets = SyntheticJets.Generate(400, 32, 1);
        var store = new InMemoryJetStore(jets, new Dictionary<string, float[]>());
        ProcessingCondition[] raw = [new("part_px", Min: -1e9, Max: 1e9), new("part_py", Min: -1e9, Max: 1e9), new("part_pz", Min: -1e9, Max: 1e9)];
        var plain = new JetTrainingData(store, raw, 400, 0, 1, 0, 1000).Train(0).Single();
        var flipped = new JetTrainingData(store, raw, 400, 0, 1, 0.5, 1000).Train(0).Single();
        Assert.That(flipped.Ids, Is.EqualTo(plain.Ids), "the flip does not change the order");
        int p = 32, mirrored = 0;
        for (int i = 0; i < 400; i++)
        {
            bool same = true, mirror = true;
            for (int k = 0; k < jets.Counts[(int)plain.Ids[i]]; k++)
            {
                float px = plain.Features[(i * 3) * p + k], py = plain.Features[(i * 3 + 1) * p + k], pz = plain.Features[(i * 3 + 2) * p + k];
                float fx = flipped.Features[(i * 3) * p + k], fy = flipped.Features[(i * 3 + 1) * p + k], fz = flipped.Features[(i * 3 + 2) * p + k];
                same &= px == fx && py == fy && pz == fz;
                mirror &= px == fx && py == -fy && pz == -fz;
            }
            Assert.That(same || mirror, Is.True, $"jet {i} is either unchanged or mirrored");
            if (mirror && !same) mirrored++;
        }
        Assert.That(mirrored, Is.InRange(160, 240), "about half the jets mirrored");
        Assert.That(new JetTrainingData(store, raw, 400, 0, 1, 0.5, 1000).Validation().Any(), Is.False);
    }

    [Test]
    public void PrefetcherPreservesOrderPropagatesErrorsAndStopsEarly()
    {
        Assert.That(Prefetcher.Prefetch(Enumerable.Range(0, 1000), 3), Is.EqualTo(Enumerable.Range(0, 1000)));
        static IEnumerable<int> Failing()
        {
            yield return 1;
            throw new InvalidDataException("bad chunk");
        }
        var ex = Assert.Throws<InvalidDataException>(() => Prefetcher.Prefetch(Failing(), 2).ToList());
        Assert.That(ex!.Message, Is.EqualTo("bad chunk"));
        int produced = 0;
        IEnumerable<int> Counting()
        {
            for (int i = 0; i < 1_000_000; i++)
            {
                produced++;
                yield return i;
            }
        }
        Assert.That(Prefetcher.Prefetch(Counting(), 4).Take(10).Sum(), Is.EqualTo(45));
        Assert.That(produced, Is.LessThan(20), "the producer stops when the consumer leaves");
    }

    [Test]
    public void CliStreamsLargeDataAndPredictsTheHeldOutJets()
    {
        var log = new StringWriter();
        int rc = Program.Run(["--arch", "PFN", "--data_root", _data, "--epochs", "1", "--batch_size", "100", "--fixed_length", "32",
            "--in_memory_jets", "500", "--Observables=[\"jet_pt\"]", "--exp_dir", Path.Combine(_dir, "exp"), "--predict_format", "csv", "--seed", "4"], log);
        Assert.That(rc, Is.EqualTo(0), log.ToString());
        Assert.That(log.ToString(), Does.Contain("streamed from disk"));
        var lines = File.ReadAllLines(Path.Combine(_dir, "exp", "predict_output", "predictions.csv"));
        Assert.That(lines.Length - 1, Is.EqualTo(Enumerable.Range(0, 2000).Count(i => Seeds.IsValidation(4, 0.2, i))));
        Assert.That(lines[0], Does.Contain("jet_pt"));
    }

    [Test]
    public void NonFiniteValuesAreReplacedOrRejected()
    {
        var jets = SyntheticJets.Generate(10, 16, 2);
        jets.P4[5] = float.NaN;
        jets.P4[9] = float.PositiveInfinity;
        long[] ids = [.. Enumerable.Range(100, 10).Select(i => (long)i)];
        var copy = new JetSet(10, 16, (float[])jets.P4.Clone(), jets.Counts, jets.Labels, jets.LabelNames);
        var ex = Assert.Throws<Options.CliException>(() => JetValidation.Clean(copy, ids, "x.root", rejectNonFinite: true));
        Assert.That(ex!.Message, Is.EqualTo("flag --reject_nonfinite: jet 100 in x.root has a NaN or infinite particle value"));
        Assert.That(JetValidation.Clean(jets, ids, "x.root", rejectNonFinite: false), Is.EqualTo(2));
        Assert.That(jets.P4[5], Is.EqualTo(0));
        Assert.That(jets.P4[9], Is.EqualTo(0));
    }
}
