using System.Globalization;
using System.Text.Json;

namespace Hep.Cli.Options;

/// <summary>
/// Parses <c>--name value</c> and <c>--name=value</c> (both forms, as argparse does), rejecting unknown
/// flags, repeated flags, missing values and values of the wrong type, each with a one-line message
/// naming the flag. JSON-valued flags are parsed strictly (System.Text.Json, no trailing commas or comments).
/// </summary>
public sealed class ParsedFlags
{
    private readonly Dictionary<string, string> _values;

    private ParsedFlags(Dictionary<string, string> values) => _values = values;

    public static ParsedFlags Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new CliException($"unexpected argument '{arg}' (flags start with --; see --help)");
            string body = arg[2..];
            string name;
            string? value = null;
            int eq = body.IndexOf('=');
            if (eq >= 0)
            {
                name = body[..eq];
                value = body[(eq + 1)..];
            }
            else name = body;
            var spec = Flags.Find(name) ?? throw new CliException($"unknown flag --{name} (see --help)");
            if (value is null)
            {
                if (spec.Kind == FlagKind.Switch) value = "true";
                else if (i + 1 < args.Count && !(args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2 && char.IsLetter(args[i + 1][2])))
                    value = args[++i];
                else throw new CliException($"flag --{name} needs a value");
            }
            if (!values.TryAdd(name, value)) throw new CliException($"flag --{name} given more than once");
            Validate(spec, value);
        }
        return new ParsedFlags(values);
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v : Flags.Find(name)!.Default;

    public int Int(string name) => int.Parse(String(name)!, CultureInfo.InvariantCulture);

    public int? OptionalInt(string name) => String(name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : null;

    public double Double(string name) => double.Parse(String(name)!, NumberStyles.Float, CultureInfo.InvariantCulture);

    public bool Switch(string name) => String(name) is "true";

    /// <summary>The flag's JSON value deserialised to <typeparamref name="T"/>; a shape mismatch names the flag.</summary>
    public T? Json<T>(string name)
    {
        var s = String(name);
        if (s is null) return default;
        try
        {
            return JsonSerializer.Deserialize<T>(s, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new CliException($"flag --{name}: {s} does not have the expected structure ({e.Message.Split('.')[0]})");
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static void Validate(FlagSpec spec, string value)
    {
        switch (spec.Kind)
        {
            case FlagKind.Int when !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _):
                throw new CliException($"flag --{spec.Name}: '{value}' is not an integer");
            case FlagKind.Double when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d):
                throw new CliException($"flag --{spec.Name}: '{value}' is not a finite number");
            case FlagKind.Switch when value is not ("true" or "false"):
                throw new CliException($"flag --{spec.Name}: '{value}' must be true or false");
            case FlagKind.Json:
                try
                {
                    using var _ = JsonDocument.Parse(value);
                }
                catch (JsonException e)
                {
                    throw new CliException($"flag --{spec.Name}: malformed JSON '{value}' ({e.Message.Split(" LineNumber")[0]})");
                }
                break;
        }
    }

    /// <summary>The --help text: every flag with its default.</summary>
    public static string Help()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("usage: hep [--flag value | --flag=value] …   (weaver/main.py-compatible flags)");
        sb.AppendLine("       hep selfcheck [--device …]             compare every ILGPU kernel with host references on a device");
        sb.AppendLine("       hep convert <npy folder> <out.root>    .npy jets → JetClass-layout ROOT file");
        sb.AppendLine("       hep generate-graphs --out F.root --events N [--seed S] [--llp_mass M] [--llp_lifetime T] [--hits_csv F.csv]");
        sb.AppendLine("                                              synthetic LLP / SM event graphs for --arch HeteroNet");
        sb.AppendLine("       hep convert-graphs hits.csv[.gz] out.root [--labels bkg,llp]   per-hit CSV → event graphs");
        sb.AppendLine();
        foreach (var f in Flags.All)
        {
            string def = f.Default is null ? "" : $" (default: {f.Default})";
            sb.AppendLine($"  --{f.Name,-22} {f.Help}{def}");
        }
        return sb.ToString();
    }
}
