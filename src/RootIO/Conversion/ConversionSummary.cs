// ConversionSummary: what JetNpyToRoot.Convert wrote (for the CLI to print).
namespace Hep.RootIO.Conversion;

public sealed record ConversionSummary(
    string InputFolder,
    string OutputFile,
    string TreeName,
    int Jets,
    long Particles,
    int MaxParticlesPerJet,
    IReadOnlyList<string> Branches,
    IReadOnlyList<string> LabelBranches,
    IReadOnlyDictionary<string, int> JetsPerLabel,
    long OutputBytes);
