using System.Text.Json;
using Hep.Models.Checkpoints;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests.Reference;

/// <summary>
/// One golden reference case of ../shared/golden (see its README): weights (weaver names), inputs,
/// outputs (logits, loss, grad.*, bn_after.*), debug intermediates and case.json with the tolerances.
/// </summary>
internal sealed class GoldenCase
{
    private GoldenCase(string name)
    {
        Name = name;
        string dir = SharedFiles.Golden(name);
        Weights = SafeTensors.Read(Path.Combine(dir, "weights.safetensors"));
        Inputs = SafeTensors.Read(Path.Combine(dir, "inputs.safetensors")).ToDictionary();
        Outputs = SafeTensors.Read(Path.Combine(dir, "outputs.safetensors")).ToDictionary();
        Debug = SafeTensors.Read(Path.Combine(dir, "debug.safetensors")).ToDictionary();
        Json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "case.json"))).RootElement.Clone();
    }

    public string Name { get; }
    public SafeTensors.Contents Weights { get; }
    public Dictionary<string, HostTensor> Inputs { get; }
    public Dictionary<string, HostTensor> Outputs { get; }
    public Dictionary<string, HostTensor> Debug { get; }
    public JsonElement Json { get; }
    public JsonElement Model => Json.GetProperty("model");

    public static GoldenCase Load(string name) => new(name);

    public Tensor Input(IBackend backend, string name, DType dtype = DType.Float32) => Inputs[name].ToTensor(backend, dtype);

    public double Tolerance(string group, string key) => Json.GetProperty("tolerances").GetProperty(group).GetProperty(key).GetDouble();

    /// <summary>case.json checks.grads_zero_in_exact_arithmetic (empty when absent).</summary>
    public IReadOnlySet<string> GradientsZeroInExactArithmetic =>
        Json.GetProperty("checks").TryGetProperty("grads_zero_in_exact_arithmetic", out var list)
            ? list.EnumerateArray().Select(x => x.GetString()!).ToHashSet()
            : new HashSet<string>();

    /// <summary>Class labels (B) as Int32.</summary>
    public Tensor Labels(IBackend backend) => Inputs["labels"].ToTensor(backend, DType.Int32);
}
