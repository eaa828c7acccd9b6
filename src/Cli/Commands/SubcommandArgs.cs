using System.Globalization;
using Hep.Cli.Options;

namespace Hep.Cli.Commands;

/// <summary>
/// Arguments of a sub-command (<c>hep generate-graphs …</c>, <c>hep convert-graphs …</c>): positional
/// arguments plus <c>--name value</c> / <c>--name=value</c> options from a fixed list; unknown, repeated
/// or malformed options are one-line errors naming the command and the option.
/// </summary>
public sealed class SubcommandArgs
{
    private readonly string _command;
    private readonly Dictionary<string, string> _options;

    private SubcommandArgs(string command, List<string> positional, Dictionary<string, string> options)
    {
        _command = command;
        Positional = positional;
        _options = options;
    }

    public IReadOnlyList<string> Positional { get; }

    public static SubcommandArgs Parse(string command, IReadOnlyList<string> args, IReadOnlyCollection<string> options, string usage)
    {
        var positional = new List<string>();
        var values = new Dictionary<string, string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }
            string body = arg[2..];
            int eq = body.IndexOf('=');
            string name = eq >= 0 ? body[..eq] : body;
            if (!options.Contains(name)) throw new CliException($"{command}: unknown option --{name} (usage: {usage})");
            string value = eq >= 0 ? body[(eq + 1)..] : i + 1 < args.Count ? args[++i] : throw new CliException($"{command}: option --{name} needs a value");
            if (!values.TryAdd(name, value)) throw new CliException($"{command}: option --{name} given more than once");
        }
        return new SubcommandArgs(command, positional, values);
    }

    public string? String(string name) => _options.GetValueOrDefault(name);

    public int Int(string name, int fallback, int min)
    {
        if (!_options.TryGetValue(name, out var s)) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min)
            throw new CliException($"{_command}: option --{name}: '{s}' must be an integer ≥ {min}");
        return v;
    }

    public double Double(string name, double fallback)
    {
        if (!_options.TryGetValue(name, out var s)) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new CliException($"{_command}: option --{name}: '{s}' is not a finite number");
        return v;
    }
}
