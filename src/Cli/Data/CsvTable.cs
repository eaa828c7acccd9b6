using System.Globalization;
using System.IO.Compression;
using Hep.Cli.Options;

namespace Hep.Cli.Data;

/// <summary>
/// A tabular dataset from the .csv / .csv.gz files of a folder (header row; numeric columns): the label
/// column (integer classes 0..C−1) and the feature columns (all others, or those named). Files must
/// share the header. Non-finite features are counted, reported and replaced by 0.
/// </summary>
public sealed record CsvTable(float[] Features, int FeatureCount, string[] FeatureNames, int[] Labels, string[] LabelNames)
{
    public static bool Present(string folder) =>
        Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(f => f.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".csv.gz", StringComparison.OrdinalIgnoreCase));

    public static CsvTable Load(string folder, string labelColumn, IReadOnlyList<string>? featureColumns, TextWriter log)
    {
        var files = Directory.EnumerateFiles(folder)
            .Where(f => f.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".csv.gz", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();
        string[]? header = null;
        int labelIndex = -1;
        int[] featureIndex = [];
        var features = new List<float>();
        var labels = new List<int>();
        long nonFinite = 0;
        foreach (var file in files)
        {
            using Stream raw = File.OpenRead(file);
            using Stream data = file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
            using var reader = new StreamReader(data);
            var head = reader.ReadLine()?.Split(',').Select(h => h.Trim()).ToArray() ?? throw new CliException($"flag --data_root: {file} is empty");
            if (header is null)
            {
                header = head;
                labelIndex = Array.IndexOf(header, labelColumn);
                if (labelIndex < 0) throw new CliException($"flag --labels: column '{labelColumn}' is not in the header of {file}");
                var names = featureColumns ?? header.Where((_, i) => i != labelIndex).ToArray();
                featureIndex = names.Select(n => Array.IndexOf(header, n) is var k and >= 0 ? k
                    : throw new CliException($"flag --Processing_conditions: column '{n}' is not in the header of {file}")).ToArray();
            }
            else if (!head.SequenceEqual(header)) throw new CliException($"flag --data_root: {file} has a different header from {files[0]}");
            int line = 1;
            string? text;
            while ((text = reader.ReadLine()) is not null)
            {
                line++;
                if (text.Length == 0) continue;
                var cells = text.Split(',');
                if (cells.Length != header.Length) throw new CliException($"flag --data_root: {file} line {line} has {cells.Length} columns, header has {header.Length}");
                if (!double.TryParse(cells[labelIndex], NumberStyles.Float, CultureInfo.InvariantCulture, out var lab) || lab < 0 || lab != Math.Floor(lab))
                    throw new CliException($"flag --labels: {file} line {line}: label '{cells[labelIndex]}' is not a class index");
                labels.Add((int)lab);
                foreach (int k in featureIndex)
                {
                    if (!float.TryParse(cells[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !float.IsFinite(v))
                    {
                        nonFinite++;
                        v = 0;
                    }
                    features.Add(v);
                }
            }
        }
        if (labels.Count == 0) throw new CliException($"flag --data_root: no rows in the CSV files of {folder}");
        if (nonFinite > 0) log.WriteLine($"warning: {nonFinite} non-numeric or non-finite feature values replaced by 0");
        int classes = labels.Max() + 1;
        if (classes < 2) throw new CliException($"flag --labels: column '{labelColumn}' has a single class");
        log.WriteLine($"data: {labels.Count} rows × {featureIndex.Length} features from {files.Length} CSV file(s); label '{labelColumn}', {classes} classes");
        return new CsvTable([.. features], featureIndex.Length, featureIndex.Select(k => header![k]).ToArray(), [.. labels],
            Enumerable.Range(0, classes).Select(c => $"{labelColumn}_{c}").ToArray());
    }
}
