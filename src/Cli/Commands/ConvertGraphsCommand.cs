using Hep.Cli.Data.EventGraphs;
using Hep.Cli.Options;

namespace Hep.Cli.Commands;

/// <summary>
/// <c>hep convert-graphs hits.csv[.gz] events.root [--labels a,b]</c>: builds HeteroNet's event graphs
/// (complete graphs per node type, the features of <see cref="EventGraphBuilder"/>) from a per-hit CSV
/// (<see cref="HitCsv"/>) and writes the event-graph ROOT file. --labels fixes the class order
/// (default: class names sorted).
/// </summary>
public static class ConvertGraphsCommand
{
    private const string Usage = "hep convert-graphs <hits.csv[.gz]> <out.root> [--labels bkg,llp]";

    public static int Run(string[] args, TextWriter log)
    {
        var a = SubcommandArgs.Parse("convert-graphs", args, ["labels"], Usage);
        if (a.Positional.Count != 2) throw new CliException($"convert-graphs: usage: {Usage}");
        var classes = a.String("labels")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        HitEvent[] events;
        string[] labels, observables;
        try
        {
            (events, labels, observables) = HitCsv.Read(a.Positional[0], classes);
        }
        catch (CliException e)
        {
            throw new CliException($"convert-graphs: {e.Message}");
        }
        var set = EventGraphBuilder.BuildSet(events, labels, observables);
        try
        {
            EventGraphWriter.Write(a.Positional[1], set);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"convert-graphs: {e.Message.Split('\n')[0]}");
        }
        log.WriteLine($"convert-graphs: {Summary(set)} → {a.Positional[1]}");
        return 0;
    }

    /// <summary>"N events (label: count, …), mean nodes and edges per event".</summary>
    internal static string Summary(EventGraphSet set)
    {
        var counts = set.LabelNames.Select((l, c) => $"{l}: {set.Events.Count(e => e.Label == c)}");
        double nc = set.Events.Average(e => e.Clusters.NodeCount), nt = set.Events.Average(e => e.Trackers.NodeCount);
        double ec = set.Events.Average(e => e.Clusters.EdgeCount), et = set.Events.Average(e => e.Trackers.EdgeCount);
        return $"{set.Count} events ({string.Join(", ", counts)}); per event {nc:F1} clusters / {ec:F0} cluster pairs, {nt:F1} tracker hits / {et:F0} hit pairs";
    }
}
