namespace Hep.Models;

/// <summary>One hidden fully connected layer of a classifier head: units and dropout probability.</summary>
public sealed record FcSpec(int Units, double Dropout);
