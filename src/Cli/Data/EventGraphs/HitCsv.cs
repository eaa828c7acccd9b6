using System.Globalization;
using System.IO.Compression;
using System.Text;
using Hep.Cli.Options;

namespace Hep.Cli.Data.EventGraphs;

/// <summary>
/// The per-hit CSV that <c>hep convert-graphs</c> reads (docs/event-graphs.md): a header, then one row per
/// calorimeter cluster or tracker hit, <c>event,label,det,x,y,z,t,e,width</c> plus optional per-event
/// <c>obs_&lt;name&gt;</c> columns (any column order). det is <c>cluster</c> or <c>tracker</c>; x, y, z in mm,
/// t in ns, e in GeV (&gt; 0 for clusters), width in cm (clusters; may be empty for tracker rows); label is
/// the class name (branch <c>label_&lt;name&gt;</c>). The rows of an event are contiguous and agree on label
/// and observables. <c>.csv.gz</c> is read through gzip. Errors name the file and line.
/// </summary>
public static class HitCsv
{
    private static readonly string[] Required = ["event", "label", "det", "x", "y", "z", "t", "e", "width"];
    private const string ObservablePrefix = "obs_";

    /// <summary>Events with label indices into the returned label names (<c>label_&lt;class&gt;</c>; <paramref name="classes"/> fixes their order, default sorted).</summary>
    public static (HitEvent[] Events, string[] LabelNames, string[] ObservableNames) Read(string path, IReadOnlyList<string>? classes)
    {
        if (!File.Exists(path)) throw new CliException($"{path}: no such file");
        using Stream raw = File.OpenRead(path);
        using Stream data = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
        using var reader = new StreamReader(data);
        var header = reader.ReadLine()?.Split(',').Select(h => h.Trim()).ToArray() ?? throw new CliException($"{path}: empty file (expected a header {string.Join(",", Required)})");
        var column = Required.ToDictionary(r => r, r => Array.IndexOf(header, r) is var k and >= 0 ? k
            : throw new CliException($"{path}: header lacks column '{r}' (need {string.Join(",", Required)})"));
        var extra = header.Where(h => !Required.Contains(h)).ToArray();
        foreach (var h in extra)
            if (!h.StartsWith(ObservablePrefix, StringComparison.Ordinal) || h.Length == ObservablePrefix.Length || !ValidName(h[ObservablePrefix.Length..]))
                throw new CliException($"{path}: header column '{h}' is neither one of {string.Join(",", Required)} nor obs_<name>");
        var observableNames = extra.Select(h => h[ObservablePrefix.Length..]).ToArray();
        var observableColumns = extra.Select(h => Array.IndexOf(header, h)).ToArray();

        var rawEvents = new List<(string Label, List<ClusterHit> Clusters, List<TrackerHit> Hits, float[] Observables, int Line)>();
        var seen = new HashSet<string>();
        string? current = null;
        int line = 1;
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            line++;
            if (text.Trim().Length == 0) continue;
            var cells = text.Split(',');
            if (cells.Length != header.Length) throw new CliException($"{path}:{line}: {cells.Length} cells, the header has {header.Length}");
            string id = cells[column["event"]].Trim(), label = cells[column["label"]].Trim(), det = cells[column["det"]].Trim();
            if (!ValidName(label)) throw new CliException($"{path}:{line}: label '{label}' must be a non-empty name of letters, digits and _");
            float Number(string name, int index)
            {
                string cell = cells[index].Trim();
                if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                    throw new CliException($"{path}:{line}: column '{name}' value '{cell}' is not a finite number");
                return v;
            }
            var obs = observableColumns.Select((k, o) => Number(extra[o], k)).ToArray();
            if (id != current)
            {
                if (!seen.Add(id)) throw new CliException($"{path}:{line}: event '{id}' appears again after other events (an event's rows must be contiguous)");
                current = id;
                rawEvents.Add((label, [], [], obs, line));
            }
            var ev = rawEvents[^1];
            if (label != ev.Label) throw new CliException($"{path}:{line}: event '{id}' has label '{label}' here but '{ev.Label}' on line {ev.Line}");
            for (int o = 0; o < obs.Length; o++)
                if (obs[o] != ev.Observables[o]) throw new CliException($"{path}:{line}: event '{id}' changes observable '{extra[o]}' (per-event value)");
            float x = Number("x", column["x"]), y = Number("y", column["y"]), z = Number("z", column["z"]), t = Number("t", column["t"]), e = Number("e", column["e"]);
            if (det == "cluster")
            {
                if (!(e > 0)) throw new CliException($"{path}:{line}: cluster energy e = {e} must be positive");
                ev.Clusters.Add(new ClusterHit(x, y, z, t, e, Number("width", column["width"])));
            }
            else if (det == "tracker") ev.Hits.Add(new TrackerHit(x, y, z, t, e));
            else throw new CliException($"{path}:{line}: det '{det}' must be cluster or tracker");
        }
        if (rawEvents.Count == 0) throw new CliException($"{path}: no hit rows");
        foreach (var ev in rawEvents)
            if (ev.Clusters.Count == 0 || ev.Hits.Count == 0)
                throw new CliException($"{path}:{ev.Line}: the event starting here has {ev.Clusters.Count} clusters and {ev.Hits.Count} tracker hits (at least one of each is needed)");
        var names = classes?.ToArray() ?? rawEvents.Select(e => e.Label).Distinct().OrderBy(l => l, StringComparer.Ordinal).ToArray();
        if (names.Length < 2) throw new CliException($"{path}: {names.Length} class(es) [{string.Join(", ", names)}]; a classifier needs at least two (give them with --labels)");
        var events = rawEvents.Select(e => new HitEvent([.. e.Clusters], [.. e.Hits], Array.IndexOf(names, e.Label) is var k and >= 0 ? k
            : throw new CliException($"{path}:{e.Line}: label '{e.Label}' is not among --labels [{string.Join(", ", names)}]"), e.Observables)).ToArray();
        return (events, names.Select(n => EventGraphFormat.LabelPrefix + n).ToArray(), observableNames);
    }

    /// <summary>Writes events as a per-hit CSV (temporary file renamed when complete).</summary>
    public static void Write(string path, IReadOnlyList<HitEvent> events, IReadOnlyList<string> labelNames, IReadOnlyList<string> observableNames)
    {
        string tmp = path + ".tmp";
        using (var w = new StreamWriter(tmp, false, new UTF8Encoding(false)))
        {
            w.WriteLine(string.Join(",", Required.Concat(observableNames.Select(o => ObservablePrefix + o))));
            static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);
            for (int n = 0; n < events.Count; n++)
            {
                var ev = events[n];
                string label = labelNames[ev.Label].StartsWith(EventGraphFormat.LabelPrefix, StringComparison.Ordinal)
                    ? labelNames[ev.Label][EventGraphFormat.LabelPrefix.Length..] : labelNames[ev.Label];
                string obs = string.Concat(ev.Observables.Select(o => "," + F(o)));
                foreach (var c in ev.Clusters) w.WriteLine($"{n},{label},cluster,{F(c.X)},{F(c.Y)},{F(c.Z)},{F(c.T)},{F(c.E)},{F(c.Width)}{obs}");
                foreach (var h in ev.Trackers) w.WriteLine($"{n},{label},tracker,{F(h.X)},{F(h.Y)},{F(h.Z)},{F(h.T)},{F(h.E)},{obs}");
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    private static bool ValidName(string s) => s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
}
