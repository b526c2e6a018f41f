namespace Chat.Tests.Infrastructure;

/// <summary>A clock for unit tests that moves only when the test says: wall time and timestamps alike.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _elapsedTicks;

    public ManualClock()
        : this(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => start.AddTicks(Interlocked.Read(ref _elapsedTicks));

    public override long GetTimestamp() => 1_000_000 + Interlocked.Read(ref _elapsedTicks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _elapsedTicks, by.Ticks);
}
