using System.Net;
using Chat.Protocol;
using Chat.Server.Telemetry;
using Microsoft.Extensions.Options;

namespace Chat.Server.Transport;

/// <summary>
/// The chat connections open on this replica (TCP and <c>/ws</c>), in one place: it enforces <c>Chat:MaxConnections</c>,
/// <c>Chat:MaxConnectionsPerAddress</c>, <c>Chat:MaxAnonymousConnections</c> and <c>Chat:LoginDeadline</c>, turns
/// connections away while the replica drains, counts every refusal by reason, and is what the drain, <c>/stats</c> and the
/// connection gauge read. A connection is anonymous from the moment it is admitted (and again after LOGINOUT) until it
/// logs in; the anonymous ones are kept oldest first, so the deadline and the cap both close from the front. One whose
/// LOGIN is being served (its credentials checked, or waiting for the login gate: work already queued, bounded by the
/// login limits) is passed over until that ends, so a login storm's slowest logins are not thrown to the back.
/// </summary>
public sealed class ConnectionRegistry : IDisposable
{
    private static readonly ReadOnlyMemory<byte> AnonymousFull =
        ServerFrames.Error(ErrorCode.Unavailable, "too many connections are waiting to log in: connect again and log in at once", null);

    private readonly object _lock = new();
    private readonly Dictionary<ChatConnection, Entry> _open = [];
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly LinkedList<Entry> _anonymous = [];
    private readonly TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ChatMetrics _metrics;
    private readonly ConnectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ReadOnlyMemory<byte> _deadlinePassed;
    private readonly ITimer _sweeper;
    private bool _draining;

    public ConnectionRegistry(ChatMetrics metrics, IOptions<ConnectionOptions> options, TimeProvider time)
    {
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _deadlinePassed = ServerFrames.Error(ErrorCode.NotLoggedIn, $"not logged in within {_options.LoginDeadline.TotalSeconds:0.###} s of connecting: closing", null);
        // The deadline is kept to within an eighth of itself (at most a second late), by one timer for all connections.
        var period = TimeSpan.FromTicks(Math.Clamp(_options.LoginDeadline.Ticks / 8, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _sweeper = time.CreateTimer(_ => CloseOverdue(), null, period, period);
    }

    public enum Admission
    {
        Admitted,
        Full,
        Draining,

        /// <summary>The connection's address holds <see cref="ConnectionOptions.MaxConnectionsPerAddress"/> already.</summary>
        AddressFull,
    }

    public int Count
    {
        get
        {
            lock (_lock) return _open.Count;
        }
    }

    /// <summary>Open connections that have not logged in (or logged out since).</summary>
    public int AnonymousCount
    {
        get
        {
            lock (_lock) return _anonymous.Count;
        }
    }

    /// <summary>The replica is shutting down: connections are being told to finish, new ones turned away.</summary>
    public bool Draining
    {
        get
        {
            lock (_lock) return _draining;
        }
    }

    /// <summary>Completes once the replica drains and the last connection has gone.</summary>
    public Task Emptied => _empty.Task;

    /// <summary>Open connections from <paramref name="address"/>.</summary>
    public int CountFrom(IPAddress address)
    {
        lock (_lock) return _perAddress.GetValueOrDefault(address);
    }

    /// <summary>
    /// Admits <paramref name="connection"/> as anonymous, or says why not (counted by reason). When that makes one
    /// anonymous connection too many, the oldest is closed.
    /// </summary>
    public Admission TryAdd(ChatConnection connection)
    {
        Entry? evicted = null;
        var admission = Admission.Admitted;
        lock (_lock)
        {
            var address = connection.RemoteAddress;
            if (_draining)
            {
                admission = Admission.Draining;
            }
            else if (_open.Count >= _options.MaxConnections)
            {
                admission = Admission.Full;
            }
            else if (address is not null && _perAddress.GetValueOrDefault(address) >= _options.MaxConnectionsPerAddress)
            {
                admission = Admission.AddressFull;
            }
            else
            {
                var entry = new Entry(connection, address);
                _open.Add(connection, entry);
                if (address is not null)
                {
                    _perAddress[address] = _perAddress.GetValueOrDefault(address) + 1;
                }

                _metrics.ConnectionOpened();
                evicted = MakeAnonymous(entry);
            }
        }

        switch (admission)
        {
            case Admission.Draining:
                _metrics.ConnectionTurnedAway(TurnedAway.Draining);
                break;
            case Admission.Full:
                _metrics.ConnectionTurnedAway(TurnedAway.ServerFull);
                break;
            case Admission.AddressFull:
                _metrics.ConnectionTurnedAway(TurnedAway.AddressFull);
                break;
        }

        Close(evicted, AnonymousFull, TurnedAway.AnonymousFull);
        return admission;
    }

    /// <summary>The connection logged in: the login deadline and the anonymous cap no longer apply to it.</summary>
    public void LoggedIn(ChatConnection connection)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(connection, out var entry) && entry.Node is { } node)
            {
                _anonymous.Remove(node);
                entry.Node = null;
            }
        }
    }

    /// <summary>A LOGIN is being served on the connection (until <see cref="LoginEnded"/>): neither the deadline nor the cap closes it meanwhile.</summary>
    public void LoginStarted(ChatConnection connection) => SetLoggingIn(connection, true);

    /// <summary>The LOGIN ended, whether it logged in or not; if not, the deadline (from the connection's start) applies again.</summary>
    public void LoginEnded(ChatConnection connection) => SetLoggingIn(connection, false);

    /// <summary>The connection logged out (LOGINOUT) and stays open: anonymous again, with a fresh deadline.</summary>
    public void LoggedOut(ChatConnection connection)
    {
        Entry? evicted = null;
        lock (_lock)
        {
            if (_open.TryGetValue(connection, out var entry) && entry.Node is null && !connection.Closing)
            {
                evicted = MakeAnonymous(entry);
            }
        }

        Close(evicted, AnonymousFull, TurnedAway.AnonymousFull);
    }

    public void Remove(ChatConnection connection)
    {
        lock (_lock)
        {
            if (!_open.Remove(connection, out var entry))
            {
                return;
            }

            if (entry.Node is { } node)
            {
                _anonymous.Remove(node);
            }

            if (entry.Address is { } address)
            {
                var left = _perAddress[address] - 1;
                if (left == 0)
                {
                    _perAddress.Remove(address);
                }
                else
                {
                    _perAddress[address] = left;
                }
            }

            _metrics.ConnectionClosed();
            if (_draining && _open.Count == 0)
            {
                _empty.TrySetResult();
            }
        }
    }

    /// <summary>Turns new connections away from now on and hands back those open, to be told to finish.</summary>
    public ChatConnection[] BeginDrain()
    {
        lock (_lock)
        {
            _draining = true;
            if (_open.Count == 0)
            {
                _empty.TrySetResult();
            }

            return [.. _open.Keys];
        }
    }

    public ChatConnection[] Snapshot()
    {
        lock (_lock) return [.. _open.Keys];
    }

    public void Dispose() => _sweeper.Dispose();

    /// <summary>Closes the anonymous connections whose login deadline has passed (the list is oldest first).</summary>
    private void CloseOverdue()
    {
        List<Entry>? overdue = null;
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            for (var node = _anonymous.First; node is not null && _time.GetElapsedTime(node.Value.Since, now) >= _options.LoginDeadline;)
            {
                var next = node.Next;
                if (!node.Value.LoggingIn)
                {
                    _anonymous.Remove(node);
                    node.Value.Node = null;
                    (overdue ??= []).Add(node.Value);
                }

                node = next;
            }
        }

        foreach (var entry in overdue ?? [])
        {
            Close(entry, _deadlinePassed, TurnedAway.LoginDeadline);
        }
    }

    /// <returns>The oldest anonymous connection when this one makes them too many (taken off the list), else null.</returns>
    private Entry? MakeAnonymous(Entry entry)
    {
        entry.Since = _time.GetTimestamp();
        entry.Node = _anonymous.AddLast(entry);
        if (_anonymous.Count <= _options.MaxAnonymousConnections)
        {
            return null;
        }

        var oldest = _anonymous.First;
        while (oldest is not null && oldest.Value.LoggingIn)
        {
            oldest = oldest.Next;
        }

        if (oldest is null || oldest == entry.Node)
        {
            return null;
        }

        _anonymous.Remove(oldest);
        oldest.Value.Node = null;
        return oldest.Value;
    }

    private void SetLoggingIn(ChatConnection connection, bool loggingIn)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(connection, out var entry))
            {
                entry.LoggingIn = loggingIn;
            }
        }
    }

    /// <summary>Tells the client why, then closes the connection once that is written (never under the lock).</summary>
    private void Close(Entry? entry, ReadOnlyMemory<byte> error, TurnedAway reason)
    {
        if (entry is null)
        {
            return;
        }

        _metrics.ConnectionTurnedAway(reason);
        entry.Connection.Send(error);
        entry.Connection.CloseFromOutside();
    }

    private sealed class Entry(ChatConnection connection, IPAddress? address)
    {
        public ChatConnection Connection { get; } = connection;

        public IPAddress? Address { get; } = address;

        /// <summary>When it became anonymous (a <see cref="TimeProvider"/> timestamp).</summary>
        public long Since { get; set; }

        /// <summary>A LOGIN is being served on it.</summary>
        public bool LoggingIn { get; set; }

        /// <summary>Its place among the anonymous, or null once logged in.</summary>
        public LinkedListNode<Entry>? Node { get; set; }
    }
}
