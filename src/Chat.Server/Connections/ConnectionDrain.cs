using System.Diagnostics;
using Chat.Server.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Server.Connections;

/// <summary>
/// Graceful shutdown of the chat port. Before any service stops (so the writer and the cursors still work), every
/// connection stops reading, finishes the frame in hand, logs out — its cursors flushed, its presence released, so
/// the user can log in on another replica at once — and closes. Connections that arrive meanwhile are turned away.
/// </summary>
public sealed class ConnectionDrain(IOptions<ChatServerOptions> options, ILogger<ConnectionDrain> log) : IHostedLifecycleService
{
    private readonly HashSet<ConnectionContext> _open = [];
    private readonly TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _draining;

    /// <returns>False when the replica is shutting down: the connection must be closed.</returns>
    public bool TryEnter(ConnectionContext connection)
    {
        lock (_open)
        {
            return !_draining && _open.Add(connection);
        }
    }

    public void Exit(ConnectionContext connection)
    {
        lock (_open)
        {
            if (_open.Remove(connection) && _draining && _open.Count == 0)
            {
                _empty.TrySetResult();
            }
        }
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        int count;
        lock (_open)
        {
            _draining = true;
            count = _open.Count;
            foreach (var connection in _open)
            {
                connection.Transport.Input.CancelPendingRead();
            }

            if (count == 0)
            {
                _empty.TrySetResult();
            }
        }

        var clock = Stopwatch.StartNew();
        var timeout = options.Value.DrainTimeout;
        if (await Task.WhenAny(_empty.Task, Task.Delay(timeout, cancellationToken)) == _empty.Task)
        {
            ServerLog.Drained(log, count, clock.ElapsedMilliseconds);
            return;
        }

        lock (_open)
        {
            ServerLog.DrainTimedOut(log, _open.Count, timeout);
            foreach (var connection in _open)
            {
                connection.Abort(new ConnectionAbortedException("the replica is shutting down"));
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
