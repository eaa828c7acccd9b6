namespace Hep.Autograd;

/// <summary>One recorded op: the function, its inputs and its output variable.</summary>
internal sealed class TapeNode(Function function, Variable[] inputs, Variable output)
{
    public Function Function { get; } = function;
    public Variable[] Inputs { get; } = inputs;
    public Variable Output { get; } = output;
}
