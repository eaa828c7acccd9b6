using Hep.Cli.Data.EventGraphs;
using Hep.Cli.Options;

namespace Hep.Cli.Commands;

/// <summary>
/// <c>hep generate-graphs --out events.root --events N [--seed S] [--llp_mass GeV] [--llp_lifetime ns] [--hits_csv hits.csv]</c>:
/// synthetic LLP-signal / SM-background events (<see cref="SyntheticLlpEvents"/>) written as an
/// event-graph ROOT file for <c>hep --arch HeteroNet</c>; optionally also their per-hit CSV (the input
/// <c>hep convert-graphs</c> reads, which turns it into the same file).
/// </summary>
public static class GenerateGraphsCommand
{
    private const string Usage = "hep generate-graphs --out F.root --events N [--seed S] [--llp_mass 50] [--llp_lifetime 1] [--hits_csv F.csv]";

    public static int Run(string[] args, TextWriter log)
    {
        var a = SubcommandArgs.Parse("generate-graphs", args, ["out", "events", "seed", "llp_mass", "llp_lifetime", "hits_csv"], Usage);
        if (a.Positional.Count > 0) throw new CliException($"generate-graphs: unexpected argument '{a.Positional[0]}' (usage: {Usage})");
        string output = a.String("out") ?? throw new CliException($"generate-graphs: --out is required (usage: {Usage})");
        int events = a.Int("events", 1000, 1), seed = a.Int("seed", 42, int.MinValue);
        double mass = a.Double("llp_mass", 50), lifetime = a.Double("llp_lifetime", 1);
        if (!(mass > 0 && mass < 62.5)) throw new CliException($"generate-graphs: option --llp_mass: {mass} GeV must lie in (0, 62.5) (H → XX)");
        if (!(lifetime > 0)) throw new CliException($"generate-graphs: option --llp_lifetime: {lifetime} ns must be positive");
        var hits = SyntheticLlpEvents.GenerateHits(events, seed, mass, lifetime);
        var set = EventGraphBuilder.BuildSet(hits, SyntheticLlpEvents.LabelNames, SyntheticLlpEvents.ObservableNames);
        try
        {
            EventGraphWriter.Write(output, set);
            if (a.String("hits_csv") is { } csv) HitCsv.Write(csv, hits, SyntheticLlpEvents.LabelNames, SyntheticLlpEvents.ObservableNames);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"generate-graphs: {e.Message.Split('\n')[0]}");
        }
        log.WriteLine($"generate-graphs: {ConvertGraphsCommand.Summary(set)} → {output}");
        return 0;
    }
}
