namespace Hep.Autograd;

/// <summary>An op was differentiated with respect to an input it has no gradient for (e.g. integer indices).</summary>
public sealed class BackwardNotImplementedException(string op, string input)
    : NotSupportedException($"{op}: no gradient with respect to {input}");
