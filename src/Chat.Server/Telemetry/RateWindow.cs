namespace Chat.Server.Telemetry;

/// <summary>
/// Events per second over a sliding window of whole seconds: one counter per second in a ring, reset when its second
/// comes round again. Lock-free; an event racing the reset of its bucket may go uncounted, which a rate can bear.
/// </summary>
public sealed class RateWindow(TimeProvider time, int seconds = 10)
{
    private readonly long[] _counts = new long[seconds];
    private readonly long[] _seconds = new long[seconds];

    public int Seconds => seconds;

    public void Add()
    {
        var now = Now();
        var i = (int)(now % seconds);
        var stamp = Volatile.Read(ref _seconds[i]);
        if (stamp != now && Interlocked.CompareExchange(ref _seconds[i], now, stamp) == stamp)
        {
            Interlocked.Exchange(ref _counts[i], 0);
        }

        Interlocked.Increment(ref _counts[i]);
    }

    /// <summary>The mean rate over the current second and the ones before it, the whole window.</summary>
    public double PerSecond()
    {
        var now = Now();
        long total = 0;
        for (var i = 0; i < seconds; i++)
        {
            if (now - Volatile.Read(ref _seconds[i]) < seconds)
            {
                total += Interlocked.Read(ref _counts[i]);
            }
        }

        return (double)total / seconds;
    }

    private long Now() => time.GetUtcNow().ToUnixTimeSeconds();
}
