using Chat.Server.Telemetry;
using Microsoft.AspNetCore.Connections;

namespace Chat.Server.Transport;

/// <summary>
/// The chat connections open on this replica, in one place: it enforces <c>Chat:MaxConnections</c>, turns
/// connections away while the replica drains, and is what the drain, <c>/stats</c> and the connection gauge read.
/// </summary>
public sealed class ConnectionRegistry(ChatMetrics metrics)
{
    private readonly HashSet<ConnectionContext> _open = [];
    private readonly TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _draining;

    public enum Admission
    {
        Admitted,
        Full,
        Draining,
    }

    public int Count
    {
        get
        {
            lock (_open) return _open.Count;
        }
    }

    /// <summary>The replica is shutting down: connections are being told to finish, new ones turned away.</summary>
    public bool Draining
    {
        get
        {
            lock (_open) return _draining;
        }
    }

    /// <summary>Completes once the replica drains and the last connection has gone.</summary>
    public Task Emptied => _empty.Task;

    public Admission TryAdd(ConnectionContext connection, int limit)
    {
        lock (_open)
        {
            if (_draining) return Admission.Draining;
            if (_open.Count >= limit) return Admission.Full;
            _open.Add(connection);
            metrics.ConnectionOpened();
            return Admission.Admitted;
        }
    }

    public void Remove(ConnectionContext connection)
    {
        lock (_open)
        {
            if (!_open.Remove(connection))
            {
                return;
            }

            metrics.ConnectionClosed();
            if (_draining && _open.Count == 0)
            {
                _empty.TrySetResult();
            }
        }
    }

    /// <summary>Turns new connections away from now on and hands back those open, to be told to finish.</summary>
    public ConnectionContext[] BeginDrain()
    {
        lock (_open)
        {
            _draining = true;
            if (_open.Count == 0)
            {
                _empty.TrySetResult();
            }

            return [.. _open];
        }
    }

    public ConnectionContext[] Snapshot()
    {
        lock (_open) return [.. _open];
    }
}
