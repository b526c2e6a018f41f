using System.Diagnostics;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// Waits on a condition with a deadline instead of sleeping and hoping. The condition is polled with a short,
/// growing interval (5 ms up to 100 ms) and evaluated one last time at the deadline. Exceptions thrown by the
/// condition propagate at once: a condition that can fail for a reason worth knowing should say so.
/// </summary>
public static class Wait
{
    private static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Polls <paramref name="condition"/> until it is true; throws <see cref="TimeoutException"/> naming
    /// <paramref name="what"/> when <paramref name="timeout"/> passes first.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        var interval = FirstInterval;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await condition())
            {
                return;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.###} s waiting for {what}.");
            }

            await Task.Delay(interval < left ? interval : left, cancellationToken);
            interval = interval * 2 < MaxInterval ? interval * 2 : MaxInterval;
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, TimeSpan, string, CancellationToken)"/>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(() => Task.FromResult(condition()), timeout, what, cancellationToken);
    }
}
