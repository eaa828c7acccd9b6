using System.Globalization;
using System.Text.Json;

namespace Hep.Cli.Metrics;

/// <summary>
/// Per-epoch metrics as JSON lines in <c>exp_dir/metrics.jsonl</c> (epoch, loss, train accuracy,
/// throughput, learning rate, validation accuracy / AUC / rejections). Each line is appended and
/// flushed, so an interrupted run keeps every completed epoch.
/// </summary>
public sealed class MetricsLog(string expDir)
{
    public string Path { get; } = System.IO.Path.Combine(expDir, "metrics.jsonl");

    public void Append(int epoch, double loss, double trainAccuracy, double itemsPerSecond, double learningRate, ClassificationMetrics validation)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var record = new Dictionary<string, object>
        {
            ["epoch"] = epoch,
            ["loss"] = Finite(loss),
            ["train_accuracy"] = Finite(trainAccuracy),
            ["items_per_s"] = Finite(itemsPerSecond),
            ["lr"] = Finite(learningRate),
            ["val_accuracy"] = Finite(validation.Accuracy),
            ["val_auc"] = Finite(validation.Auc),
            ["val_rejection_50"] = Finite(validation.RejectionAt50),
            ["val_rejection_30"] = Finite(validation.RejectionAt30),
            ["time"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        };
        File.AppendAllText(Path, JsonSerializer.Serialize(record) + "\n");
    }

    // JSON has no NaN/∞: store them as strings.
    private static object Finite(double v) => double.IsFinite(v) ? v : v.ToString(CultureInfo.InvariantCulture);
}
