namespace Chat.Tests.Infrastructure;

/// <summary>
/// Tests that bound a latency (the numbers, e.g. a p99) run in this collection: after the parallel ones, alone,
/// so that what they measure is the server under their own load rather than under the rest of the suite.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
