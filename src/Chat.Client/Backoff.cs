namespace Chat.Client;

/// <summary>
/// Reconnect pacing: the delay doubles after each failed attempt up to a cap, and each wait is jittered (between half
/// and all of it), so the users of a replica that died do not all come back in the same instant, again and again.
/// </summary>
public static class Backoff
{
    public static TimeSpan Longer(TimeSpan delay, TimeSpan max) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, max.Ticks));

    /// <summary>A wait between half of <paramref name="delay"/> and all of it ("equal jitter").</summary>
    public static TimeSpan Jittered(TimeSpan delay) => delay / 2 + delay / 2 * Random.Shared.NextDouble();
}
