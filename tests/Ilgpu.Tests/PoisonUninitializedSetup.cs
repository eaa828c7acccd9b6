namespace Hep.Ilgpu.Tests;

/// <summary>Uninitialized CPU buffers are poisoned for the whole run (<see cref="UninitializedPoison"/>).</summary>
[SetUpFixture]
public class PoisonUninitializedSetup : UninitializedPoisonFixture;
