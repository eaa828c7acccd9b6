using System.Globalization;
using Hep.RootIO;
using Hep.RootIO.Writing;

namespace Hep.Cli.Output;

/// <summary>
/// Writes predictions as the users' tool does: <c>predictions.root</c> with TTree <c>tree</c> holding
/// <c>score_&lt;label&gt;</c> (float) for every class, the --Observables (float, copied unchanged) and
/// the one-hot label branches (bool); or the same columns as CSV. Both are written to a temporary file
/// and renamed only when complete, so an interrupted run never leaves a half-written file.
/// </summary>
public static class PredictionWriter
{
    public static string Write(string folder, string format, float[] scores, int[] labels, IReadOnlyList<string> labelNames,
        IReadOnlyDictionary<string, float[]> observables)
    {
        Directory.CreateDirectory(folder);
        int n = labels.Length, classes = labelNames.Count;
        var scoreNames = labelNames.Select(l => "score_" + l).ToArray();
        if (format == "csv")
        {
            string path = Path.Combine(folder, "predictions.csv");
            string tmp = path + ".tmp";
            using (var w = new StreamWriter(tmp))
            {
                w.WriteLine(string.Join(",", scoreNames.Concat(observables.Keys).Concat(labelNames)));
                for (int i = 0; i < n; i++)
                {
                    var cells = new List<string>();
                    for (int c = 0; c < classes; c++) cells.Add(scores[i * classes + c].ToString("R", CultureInfo.InvariantCulture));
                    foreach (var o in observables.Values) cells.Add(o[i].ToString("R", CultureInfo.InvariantCulture));
                    for (int c = 0; c < classes; c++) cells.Add(labels[i] == c ? "1" : "0");
                    w.WriteLine(string.Join(",", cells));
                }
            }
            File.Move(tmp, path, overwrite: true);
            return path;
        }
        if (format != "root") throw new Options.CliException($"flag --predict_format: '{format}' must be root or csv");
        string rootPath = Path.Combine(folder, "predictions.root");
        var specs = scoreNames.Select(s => BranchSpec.Scalar(s, RootValueType.Float32))
            .Concat(observables.Keys.Select(o => BranchSpec.Scalar(o, RootValueType.Float32)))
            .Concat(labelNames.Select(l => BranchSpec.Scalar(l, RootValueType.Bool)));
        using var writer = new RootTreeWriter(rootPath, "tree", specs);
        var columns = new Dictionary<string, WriteColumn>();
        for (int c = 0; c < classes; c++)
        {
            var col = new float[n];
            for (int i = 0; i < n; i++) col[i] = scores[i * classes + c];
            columns[scoreNames[c]] = WriteColumn.Scalars(col);
            columns[labelNames[c]] = WriteColumn.Scalars(labels.Select(l => l == c).ToArray());
        }
        foreach (var (name, values) in observables) columns[name] = WriteColumn.Scalars(values);
        writer.Append(n, columns);
        writer.Complete();
        return rootPath;
    }
}
