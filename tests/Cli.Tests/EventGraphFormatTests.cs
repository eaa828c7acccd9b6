using Hep.Cli.Data.EventGraphs;
using Hep.Cli.Options;
using Hep.Models.HeteroNet;
using Hep.RootIO;
using Hep.RootIO.Writing;

namespace Hep.Cli.Tests;

/// <summary>Event-graph files: generator → file → read back, CSV converter round trip, and bad input named precisely.</summary>
[NonParallelizable]
public class EventGraphFormatTests
{
    private string _tmp = "";

    [SetUp]
    public void MakeTemp() => Directory.CreateDirectory(_tmp = Path.Combine(Path.GetTempPath(), "hep-graphs-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveTemp() => Directory.Delete(_tmp, recursive: true);

    private static EventGraphSet Generate(int events, int seed) =>
        EventGraphBuilder.BuildSet(SyntheticLlpEvents.GenerateHits(events, seed), SyntheticLlpEvents.LabelNames, SyntheticLlpEvents.ObservableNames);

    internal static void AssertSameEvents(EventGraphSet expected, EventGraphSet actual)
    {
        Assert.That(actual.Count, Is.EqualTo(expected.Count));
        Assert.That(actual.LabelNames, Is.EqualTo(expected.LabelNames));
        Assert.That(actual.Schema.SameAs(expected.Schema), Is.True, $"{actual.Schema} vs {expected.Schema}");
        for (int i = 0; i < expected.Count; i++)
        {
            var (a, b) = (expected.Events[i], actual.Events[i]);
            Assert.That(b.Label, Is.EqualTo(a.Label), $"event {i} label");
            foreach (var (pa, pb, kind) in new[] { (a.Clusters, b.Clusters, "cluster"), (a.Trackers, b.Trackers, "tracker") })
            {
                Assert.That(pb.NodeCount, Is.EqualTo(pa.NodeCount), $"event {i} {kind} nodes");
                Assert.That(pb.NodeFeatures, Is.EqualTo(pa.NodeFeatures), $"event {i} {kind} node features");
                Assert.That(pb.EdgeFeatures, Is.EqualTo(pa.EdgeFeatures), $"event {i} {kind} edge features");
                Assert.That(pb.Source, Is.EqualTo(pa.Source), $"event {i} {kind} sources");
                Assert.That(pb.Destination, Is.EqualTo(pa.Destination), $"event {i} {kind} destinations");
            }
        }
        foreach (var (name, values) in expected.Observables) Assert.That(actual.Observables[name], Is.EqualTo(values), name);
    }

    [Test]
    public void GeneratedEventsReadBackBitForBit()
    {
        var set = Generate(40, 3);
        string path = Path.Combine(_tmp, "g.root");
        EventGraphWriter.Write(path, set);
        var back = EventGraphReader.Read(path, null, SyntheticLlpEvents.ObservableNames, TextWriter.Null);
        AssertSameEvents(set, back);
        Assert.That(back.Schema.ClusterNode, Is.EqualTo(new[] { "logE", "x", "y", "z", "t", "width" }));
        Assert.That(back.Schema.TrackerEdge, Is.EqualTo(new[] { "dx", "dy", "dz", "dist", "dt" }));
        using var file = RootFile.Open(path);
        var tree = file.GetTree("tree");
        Assert.That(tree.GetBranch("clu_inter_src").TypeName, Is.EqualTo("vector<int>"));
        Assert.That(tree.GetBranch("tracker_t").TypeName, Is.EqualTo("vector<float>"));
    }

    [Test]
    public void GeneratorFollowsItsDocumentedLayoutAndPhysics()
    {
        var hits = SyntheticLlpEvents.GenerateHits(400, 11);
        var set = EventGraphBuilder.BuildSet(hits, SyntheticLlpEvents.LabelNames, SyntheticLlpEvents.ObservableNames);
        for (int i = 0; i < set.Count; i++)
        {
            var e = set.Events[i];
            Assert.That(e.Label, Is.EqualTo(i % 2), "classes alternate, even = background");
            Assert.That(e.Clusters.NodeCount, Is.InRange(2, 8));
            Assert.That(e.Trackers.NodeCount, Is.InRange(1, 24));
            foreach (var p in new[] { e.Clusters, e.Trackers })
            {
                Assert.That(p.EdgeCount, Is.EqualTo(p.NodeCount * (p.NodeCount - 1)), "complete directed graph without self-loops");
                Assert.That(p.Source.Zip(p.Destination).All(sd => sd.First != sd.Second), Is.True);
            }
            Assert.That(set.Observables["truth_process"][i], i % 2 == 1 ? Is.EqualTo(3f) : Is.InRange(0f, 2f));
            Assert.That(set.Observables["event_number"][i], Is.EqualTo((float)i));
        }
        // Features follow their definitions: cluster ln E and radius, pair distance = |Δ|, Δt antisymmetric.
        var first = hits[0];
        var ev = set.Events[0];
        Assert.That(ev.Clusters.NodeFeatures[0], Is.EqualTo((float)Math.Log(first.Clusters[0].E)).Within(1e-6));
        Assert.That(ev.Trackers.NodeFeatures[3], Is.EqualTo(first.Trackers[0].T));
        for (int k = 0; k < ev.Trackers.EdgeCount; k++)
        {
            var f = ev.Trackers.EdgeFeatures.AsSpan(k * 5, 5);
            Assert.That(f[3], Is.EqualTo(Math.Sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2])).Within(1e-5));
        }
        // Physics: LLP decay radii follow βγcτ (mean ≈ 0.22 m at m_X = 50 GeV, τ = 1 ns, so the smaller of two ≈ 0.1 m);
        // displaced decays leave fewer tracker hits on the inner layers and late clusters.
        var radii = Enumerable.Range(0, set.Count).Where(i => i % 2 == 1).Select(i => set.Observables["truth_llp_r"][i]).ToArray();
        Assert.That(radii.Average(), Is.InRange(0.04, 0.25));
        Assert.That(Enumerable.Range(0, set.Count).Where(i => i % 2 == 0).All(i => set.Observables["truth_llp_r"][i] == 0), Is.True);
        double InnerHits(int label) => hits.Where(h => h.Label == label).Average(h => h.Trackers.Count(t => Math.Sqrt(t.X * t.X + t.Y * t.Y) < 150));
        Assert.That(InnerHits(1), Is.LessThan(0.8 * InnerHits(0)), "fewer hits on the innermost layer for displaced decays");
        double Residual(int label) => hits.Where(h => h.Label == label).SelectMany(h => h.Clusters)
            .Average(c => c.T - Math.Sqrt(c.X * c.X + c.Y * c.Y + c.Z * c.Z) / 299.792458);
        Assert.That(Residual(1) - Residual(0), Is.GreaterThan(0.2), "LLP clusters arrive late (ns)");
    }

    [Test]
    public void ConverterRebuildsTheGeneratorsGraphsFromItsHitCsv()
    {
        string generated = Path.Combine(_tmp, "g.root"), csv = Path.Combine(_tmp, "hits.csv"), converted = Path.Combine(_tmp, "c.root");
        var log = new StringWriter();
        Assert.That(Program.Run(["generate-graphs", "--out", generated, "--events", "30", "--seed", "5", "--hits_csv", csv], log), Is.EqualTo(0));
        Assert.That(log.ToString(), Does.Contain("30 events (label_bkg: 15, label_llp: 15)"));
        Assert.That(File.ReadLines(csv).First(), Is.EqualTo("event,label,det,x,y,z,t,e,width,obs_event_number,obs_truth_process,obs_truth_llp_r"));
        Assert.That(Program.Run(["convert-graphs", csv, converted], log), Is.EqualTo(0), log.ToString());
        var a = EventGraphReader.Read(generated, null, SyntheticLlpEvents.ObservableNames, TextWriter.Null);
        var b = EventGraphReader.Read(converted, null, SyntheticLlpEvents.ObservableNames, TextWriter.Null);
        AssertSameEvents(a, b);

        // --labels fixes the class order; the one-hot branches follow it.
        string reordered = Path.Combine(_tmp, "r.root");
        Assert.That(Program.Run(["convert-graphs", csv, reordered, "--labels", "llp,bkg"], log), Is.EqualTo(0));
        var r = EventGraphReader.Read(reordered, ["label_llp", "label_bkg"], [], TextWriter.Null);
        Assert.That(r.Events.Select(e => e.Label), Is.EqualTo(a.Events.Select(e => 1 - e.Label)));
    }

    [Test]
    public void BadHitCsvIsNamedByLine()
    {
        string csv = Path.Combine(_tmp, "bad.csv");
        string header = "event,label,det,x,y,z,t,e,width";
        string Convert(params string[] rows)
        {
            File.WriteAllLines(csv, [header, .. rows]);
            return Assert.Throws<CliException>(() => Program.Run(["convert-graphs", csv, Path.Combine(_tmp, "o.root")], TextWriter.Null))!.Message;
        }
        Assert.That(Convert("0,s,cluster,1,2,3,4,5,1", "0,s,tracker,1,2,3,4,5,", "1,b,calo,1,2,3,4,5,1"), Does.Contain("bad.csv:4").And.Contain("det 'calo'"));
        Assert.That(Convert("0,s,cluster,1,2,3,4,5,1", "0,s,tracker,1,2,3,nan,5,", "1,b,tracker,1,2,3,4,5,"), Does.Contain("bad.csv:3").And.Contain("'t'"));
        Assert.That(Convert("0,s,cluster,1,2,3,4,5,1", "0,s,tracker,1,2,3,4,5,", "1,b,cluster,1,2,3,4,5,1", "1,b,tracker,1,2,3,4,5,", "0,s,tracker,1,2,3,4,5,"),
            Does.Contain("bad.csv:6").And.Contain("contiguous"));
        Assert.That(Convert("0,s,cluster,1,2,3,4,5,1", "1,b,cluster,1,2,3,4,5,1", "1,b,tracker,1,2,3,4,5,"), Does.Contain("0 tracker hits"));
        Assert.That(Convert("0,s,cluster,1,2,3,4,-5,1", "0,s,tracker,1,2,3,4,5,"), Does.Contain("energy"));
        Assert.That(File.Exists(Path.Combine(_tmp, "o.root")), Is.False, "nothing written");
    }

    // A valid three-event set with one defect injected by the caller.
    private string WriteDefective(string name, Func<EventGraphSet, EventGraphSet> defect)
    {
        string path = Path.Combine(_tmp, name);
        EventGraphWriter.Write(path, defect(Generate(3, 7)));
        return path;
    }

    private static EventGraphSet Replace(EventGraphSet set, int index, HeteroEvent ev)
    {
        var events = set.Events.ToArray();
        events[index] = ev;
        return set with { Events = events };
    }

    private static string TrainError(string dataRoot) =>
        Assert.Throws<CliException>(() => Program.Run(["--arch", "HeteroNet", "--data_root", dataRoot, "--epochs", "1"], TextWriter.Null))!.Message;

    [Test]
    public void OutOfRangeIndexIsNamedByFileBranchAndEvent()
    {
        string path = WriteDefective("index.root", set =>
        {
            var c = set.Events[1].Clusters;
            var src = c.Source.ToArray();
            src[2] = c.NodeCount;
            return Replace(set, 1, set.Events[1] with { Clusters = c with { Source = src } });
        });
        string message = TrainError(path);
        Assert.That(message, Does.StartWith("flag --data_root: " + path).And.Contain("branch 'clu_inter_src', event 1").And.Contain("outside [0, "));
    }

    [Test]
    public void NonFiniteFeatureIsNamedByFileBranchAndEvent()
    {
        string path = WriteDefective("nan.root", set =>
        {
            var t = set.Events[2].Trackers;
            var nodes = t.NodeFeatures.ToArray();
            nodes[1 * 5 + 3] = float.NaN;
            return Replace(set, 2, set.Events[2] with { Trackers = t with { NodeFeatures = nodes } });
        });
        Assert.That(TrainError(path), Does.Contain(path).And.Contain("branch 'tracker_t', event 2").And.Contain("NaN"));
    }

    [Test]
    public void InconsistentCountsAreNamed()
    {
        string path = WriteDefective("counts.root", set =>
        {
            var t = set.Events[0].Trackers;
            return Replace(set, 0, set.Events[0] with { Trackers = t with { Destination = t.Destination[..^1] } });
        });
        Assert.That(TrainError(path), Does.Contain("branch 'trk_inter_dst', event 0").And.Contain("values but 'trk_inter_src' has"));
    }

    [Test]
    public void MissingBranchesAreNamed()
    {
        string path = Path.Combine(_tmp, "missing.root");
        using (var w = new RootTreeWriter(path, "tree", [
            BranchSpec.Vector("cluster_e", RootValueType.Float32), BranchSpec.Vector("clu_inter_src", RootValueType.Int32),
            BranchSpec.Vector("clu_inter_dst", RootValueType.Int32), BranchSpec.Vector("clu_inter_d", RootValueType.Float32),
            BranchSpec.Vector("tracker_x", RootValueType.Float32), BranchSpec.Vector("trk_inter_src", RootValueType.Int32),
            BranchSpec.Vector("trk_inter_d", RootValueType.Float32), BranchSpec.Scalar("label_a", RootValueType.Bool), BranchSpec.Scalar("label_b", RootValueType.Bool)]))
        {
            var none = WriteColumn.Jagged(Array.Empty<float>(), [0, 0]);
            var noneInt = WriteColumn.Jagged(Array.Empty<int>(), [0, 0]);
            w.Append(1, new Dictionary<string, WriteColumn>
            {
                ["cluster_e"] = WriteColumn.Jagged(new[] { 1f }, [0, 1]), ["clu_inter_src"] = noneInt, ["clu_inter_dst"] = noneInt, ["clu_inter_d"] = none,
                ["tracker_x"] = WriteColumn.Jagged(new[] { 1f }, [0, 1]), ["trk_inter_src"] = noneInt, ["trk_inter_d"] = none,
                ["label_a"] = WriteColumn.Scalars(new[] { true }), ["label_b"] = WriteColumn.Scalars(new[] { false }),
            });
            w.Complete();
        }
        Assert.That(TrainError(path), Does.StartWith("flag --data_root: " + path).And.Contain("missing branch 'trk_inter_dst'"));
        string dir = Path.Combine(_tmp, "empty");
        Directory.CreateDirectory(dir);
        Assert.That(TrainError(dir), Does.Contain("no .root event-graph files"));
        string good = WriteDefective("good.root", s => s);
        var ex = Assert.Throws<CliException>(() => Program.Run(["--arch", "HeteroNet", "--data_root", good, "--Observables", "[\"nope\"]"], TextWriter.Null));
        Assert.That(ex!.Message, Does.Contain("missing branch 'nope'"));
    }
}
