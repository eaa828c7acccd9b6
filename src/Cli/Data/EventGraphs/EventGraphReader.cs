using Hep.Cli.Options;
using Hep.Models.HeteroNet;
using Hep.RootIO;
using Hep.RootIO.Trees;

namespace Hep.Cli.Data.EventGraphs;

/// <summary>
/// Reads event-graph ROOT files (a file, or every <c>.root</c> file of a folder in name order) into an
/// <see cref="EventGraphSet"/>, validating every entry: all required branches present; the feature
/// branches of a node or edge type agree on the count per event; edge endpoints lie in [0, nodes of
/// that type); every feature is finite; every event has at least one cluster and one tracker node; the
/// labels are one-hot. Any violation is a one-line <see cref="CliException"/> naming the file, the branch
/// and the event (entry number in the file).
/// </summary>
public static class EventGraphReader
{
    private const int ChunkEntries = 5000;

    public static EventGraphSet Read(string dataRoot, IReadOnlyList<string>? labels, IReadOnlyList<string> observables, TextWriter log)
    {
        string[] files;
        if (File.Exists(dataRoot)) files = [dataRoot];
        else if (Directory.Exists(dataRoot))
        {
            files = Directory.EnumerateFiles(dataRoot, "*.root").OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new CliException($"{dataRoot}: no .root event-graph files in the folder");
        }
        else throw new CliException($"{dataRoot}: no such file or folder");

        EventGraphSchema? schema = null;
        string[]? labelNames = null;
        var events = new List<HeteroEvent>();
        var observed = observables.ToDictionary(o => o, _ => new List<float>());
        foreach (var file in files)
        {
            try
            {
                using var root = RootFile.Open(file);
                if (!root.ListTrees().Contains(EventGraphFormat.TreeName))
                    throw new CliException($"{file}: no TTree '{EventGraphFormat.TreeName}' (event-graph format, docs/event-graphs.md)");
                var tree = root.GetTree(EventGraphFormat.TreeName);
                var fileSchema = DiscoverSchema(tree, file);
                var fileLabels = labels?.ToArray() ?? tree.Branches.Where(b => b.Name.StartsWith(EventGraphFormat.LabelPrefix, StringComparison.Ordinal)
                    && b.Layout == BranchLayout.Scalar).Select(b => b.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
                if (schema is null)
                {
                    schema = fileSchema;
                    labelNames = fileLabels;
                    if (labelNames.Length < 2)
                        throw new CliException($"{file}: need at least two one-hot label_* branches, found [{string.Join(", ", labelNames)}]");
                }
                else if (!schema.SameAs(fileSchema))
                    throw new CliException($"{file}: feature branches ({fileSchema}) differ from those of {files[0]} ({schema})");
                else if (!labelNames!.SequenceEqual(fileLabels))
                    throw new CliException($"{file}: label branches [{string.Join(", ", fileLabels)}] differ from those of {files[0]}");
                foreach (var name in labelNames!.Concat(observables)) RequireScalar(tree, name, file);
                ReadFile(tree, file, schema, labelNames!, observables, events, observed);
            }
            catch (RootFormatException e)
            {
                throw new CliException($"{file}: {e.Message.Split('\n')[0]}");
            }
        }
        if (events.Count == 0) throw new CliException($"{dataRoot}: the event-graph files hold no events");
        log.WriteLine($"data: {events.Count} event graphs from {files.Length} file(s) in {dataRoot}; labels [{string.Join(", ", labelNames!)}]");
        return new EventGraphSet([.. events], labelNames!, schema!, observed.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
    }

    // Feature branches: the vector branches with each prefix, in tree order (endpoints excluded).
    private static EventGraphSchema DiscoverSchema(RootTree tree, string file)
    {
        string[] Features(string prefix, bool edges)
        {
            var names = tree.Branches
                .Where(b => b.Name.StartsWith(prefix, StringComparison.Ordinal) && b.Layout is BranchLayout.Vector or BranchLayout.Jagged)
                .Where(b => !edges || !EventGraphFormat.IsEndpoint(b.Name, prefix))
                .Select(b => b.Name[prefix.Length..]).ToArray();
            if (names.Length == 0)
                throw new CliException($"{file}: no feature branch '{prefix}*' (vector per {(edges ? "edge" : "node")}; event-graph format, docs/event-graphs.md)");
            return names;
        }
        foreach (var prefix in new[] { EventGraphFormat.ClusterEdgePrefix, EventGraphFormat.TrackerEdgePrefix })
            foreach (var end in new[] { EventGraphFormat.SourceSuffix, EventGraphFormat.DestinationSuffix })
            {
                string name = prefix + end;
                if (!tree.HasBranch(name)) throw new CliException($"{file}: missing branch '{name}' (edge endpoints; event-graph format, docs/event-graphs.md)");
                var b = tree.GetBranch(name);
                if (b.Layout is not (BranchLayout.Vector or BranchLayout.Jagged) || !IsInteger(b.ValueType))
                    throw new CliException($"{file}: branch '{name}' is {b.TypeName}, expected a vector of integer node indices");
            }
        return new EventGraphSchema(Features(EventGraphFormat.ClusterNodePrefix, false), Features(EventGraphFormat.ClusterEdgePrefix, true),
            Features(EventGraphFormat.TrackerNodePrefix, false), Features(EventGraphFormat.TrackerEdgePrefix, true));
    }

    private static void RequireScalar(RootTree tree, string name, string file)
    {
        if (!tree.HasBranch(name)) throw new CliException($"{file}: missing branch '{name}'");
        var b = tree.GetBranch(name);
        if (b.Layout != BranchLayout.Scalar) throw new CliException($"{file}: branch '{name}' is {b.TypeName}, expected one number per event");
    }

    private static bool IsInteger(RootValueType t) => t is RootValueType.Int8 or RootValueType.UInt8 or RootValueType.Int16 or RootValueType.UInt16
        or RootValueType.Int32 or RootValueType.UInt32 or RootValueType.Int64 or RootValueType.UInt64;

    private static void ReadFile(RootTree tree, string file, EventGraphSchema schema, string[] labelNames, IReadOnlyList<string> observables,
        List<HeteroEvent> events, Dictionary<string, List<float>> observed)
    {
        var cluster = new PartColumns(EventGraphFormat.ClusterNodePrefix, EventGraphFormat.ClusterEdgePrefix, schema.ClusterNode, schema.ClusterEdge, "cluster");
        var tracker = new PartColumns(EventGraphFormat.TrackerNodePrefix, EventGraphFormat.TrackerEdgePrefix, schema.TrackerNode, schema.TrackerEdge, "tracker");
        var branches = cluster.Branches.Concat(tracker.Branches).Concat(labelNames).Concat(observables).ToArray();
        foreach (var chunk in tree.IterateChunks(branches, ChunkEntries))
        {
            var columns = branches.ToDictionary(b => b, b => chunk[b]);
            var labelColumns = labelNames.Select(l => columns[l]).ToArray();
            int entries = chunk.EntryCount;
            for (int i = 0; i < entries; i++)
            {
                long entry = chunk.EntryStart + i;
                var c = cluster.Event(columns, i, entry, file);
                var t = tracker.Event(columns, i, entry, file);
                int hot = -1, ones = 0;
                for (int l = 0; l < labelColumns.Length; l++)
                    if (labelColumns[l].GetDouble(i) != 0) { hot = l; ones++; }
                if (ones != 1)
                    throw new CliException($"{file}: event {entry}: labels are not one-hot ({ones} of [{string.Join(", ", labelNames)}] set)");
                events.Add(new HeteroEvent(c, t, hot));
            }
            foreach (var o in observables)
            {
                var values = columns[o].ToFloat32();
                for (int i = 0; i < values.Length; i++)
                    if (!float.IsFinite(values[i])) throw new CliException($"{file}: branch '{o}', event {chunk.EntryStart + i}: value {values[i]} is not finite");
                observed[o].AddRange(values);
            }
        }
    }

    /// <summary>The branches of one node type and its edge type, and their per-event validation.</summary>
    private sealed class PartColumns(string nodePrefix, string edgePrefix, string[] nodeNames, string[] edgeNames, string kind)
    {
        private readonly string[] _nodes = nodeNames.Select(n => nodePrefix + n).ToArray();
        private readonly string[] _edges = edgeNames.Select(n => edgePrefix + n).ToArray();
        private readonly string _src = edgePrefix + EventGraphFormat.SourceSuffix;
        private readonly string _dst = edgePrefix + EventGraphFormat.DestinationSuffix;

        public IEnumerable<string> Branches => _nodes.Concat([_src, _dst]).Concat(_edges);

        public GraphPart Event(Dictionary<string, ColumnData> columns, int i, long entry, string file)
        {
            var nodeFeatures = Rows(columns, _nodes, i, entry, file, out int nodes);
            if (nodes == 0) throw new CliException($"{file}: branch '{_nodes[0]}', event {entry}: the event has no {kind} nodes (at least one is needed)");
            var src = Indices(columns[_src], i, entry, nodes, file);
            var dst = Indices(columns[_dst], i, entry, nodes, file);
            if (src.Length != dst.Length)
                throw new CliException($"{file}: branch '{_dst}', event {entry}: {dst.Length} values but '{_src}' has {src.Length}");
            var edgeFeatures = Rows(columns, _edges, i, entry, file, out int edgeCount);
            if (edgeCount != src.Length)
                throw new CliException($"{file}: branch '{_edges[0]}', event {entry}: {edgeCount} values but '{_src}' has {src.Length} edges");
            return new GraphPart(nodes, nodeFeatures, edgeFeatures, src, dst);
        }

        // Interleaves per-feature columns into rows (count × features), checking equal counts and finiteness.
        private static float[] Rows(Dictionary<string, ColumnData> columns, string[] names, int i, long entry, string file, out int count)
        {
            count = -1;
            float[] rows = [];
            for (int f = 0; f < names.Length; f++)
            {
                var column = columns[names[f]];
                var (start, stop) = column.EntryRange(i);
                if (count < 0)
                {
                    count = stop - start;
                    rows = new float[count * names.Length];
                }
                else if (stop - start != count)
                    throw new CliException($"{file}: branch '{names[f]}', event {entry}: {stop - start} values but '{names[0]}' has {count}");
                for (int k = 0; k < count; k++)
                {
                    float v = column.Values is float[] fv ? fv[start + k] : (float)column.GetDouble(start + k);
                    if (!float.IsFinite(v)) throw new CliException($"{file}: branch '{names[f]}', event {entry}: value {k} is {v} (features must be finite)");
                    rows[k * names.Length + f] = v;
                }
            }
            return rows;
        }

        private static int[] Indices(ColumnData column, int i, long entry, int nodes, string file)
        {
            var (start, stop) = column.EntryRange(i);
            var result = new int[stop - start];
            for (int k = 0; k < result.Length; k++)
            {
                double v = column.Values is int[] iv ? iv[start + k] : column.GetDouble(start + k);
                if (!(v >= 0 && v < nodes))
                    throw new CliException($"{file}: branch '{column.Branch}', event {entry}: index {v} at edge {k} is outside [0, {nodes}) (the event's nodes of that type)");
                result[k] = (int)v;
            }
            return result;
        }
    }
}
