using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Chat.Server.Transport;

/// <summary>
/// Graceful shutdown of the chat port. Before any service stops (so the writer and the cursors still work), every
/// connection stops reading, finishes the frame in hand, logs out — its cursors flushed, its presence released, so
/// the user can log in on another replica at once — and closes. Connections that arrive meanwhile are turned away.
/// </summary>
public sealed class ConnectionDrain(ConnectionRegistry registry, IOptions<ConnectionOptions> options, ILogger<ConnectionDrain> log) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var open = registry.BeginDrain();
        foreach (var connection in open)
        {
            connection.StopReading();
        }

        var clock = Stopwatch.StartNew();
        var timeout = options.Value.DrainTimeout;
        if (await Task.WhenAny(registry.Emptied, Task.Delay(timeout, cancellationToken)) == registry.Emptied)
        {
            ServerLog.Drained(log, open.Length, clock.ElapsedMilliseconds);
            return;
        }

        var left = registry.Snapshot();
        ServerLog.DrainTimedOut(log, left.Length, timeout);
        foreach (var connection in left)
        {
            connection.Abort("the replica is shutting down");
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
