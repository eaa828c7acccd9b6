namespace Hep.Cli.Options;

/// <summary>How a flag's value is parsed.</summary>
public enum FlagKind
{
    Int,
    Double,
    String,
    /// <summary>A JSON document (parsed strictly).</summary>
    Json,
    /// <summary>A switch: present = true; also accepts =true/=false.</summary>
    Switch,
}

/// <summary>One command-line flag: name (without dashes), kind, default shown in --help, and help text.</summary>
public sealed record FlagSpec(string Name, FlagKind Kind, string? Default, string Help);
