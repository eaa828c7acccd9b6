namespace Hep.Models.Checkpoints;

/// <summary>A checkpoint file that cannot be read: bad container, forbidden pickle content, bad offsets.</summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string message) : base(message) { }
    public CheckpointFormatException(string message, Exception inner) : base(message, inner) { }
}
