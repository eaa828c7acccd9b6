namespace Hep.Cli.Options;

/// <summary>A user error (bad flag, bad file, bad data): printed as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
