using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay to a server port. A test can cut it (<see cref="Cut"/> closes every relayed connection and
/// closes new ones at once until <see cref="Restore"/>, like a network outage), and a test double built on it can look at
/// each chunk on its way (<see cref="Inspect"/>: <see cref="CommitCutProxy"/>). The one pump of the tests' proxies.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _upstreamPort;
    private readonly Inspect? _inspect;
    private readonly Action<Link>? _closed;
    private readonly ConcurrentDictionary<Link, byte> _open = new();
    private readonly Task _accepting;
    private volatile bool _down;

    private TcpProxy(int upstreamPort, Inspect? inspect, Action<Link>? closed)
    {
        (_upstreamPort, _inspect, _closed) = (upstreamPort, inspect, closed);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    /// <summary>What to do with a chunk one side sent (<paramref name="toServer"/>: the client did).</summary>
    public delegate Forward Inspect(Link link, ReadOnlySpan<byte> chunk, bool toServer);

    public enum Forward
    {
        /// <summary>Relay it and go on.</summary>
        Pass,

        /// <summary>Relay it, then read no more from that side; the link stays open until something closes it.</summary>
        PassThenStop,

        /// <summary>Relay nothing more: close the link.</summary>
        Close,
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <param name="inspect">Looks at each chunk before it is relayed; null: everything passes.</param>
    /// <param name="closed">Told when a link has closed (both sides).</param>
    public static TcpProxy Start(int upstreamPort, Inspect? inspect = null, Action<Link>? closed = null) => new(upstreamPort, inspect, closed);

    public void Cut()
    {
        _down = true;
        foreach (var link in _open.Keys)
        {
            Close(link);
        }
    }

    public void Restore() => _down = false;

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        Cut();
        await _accepting;
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_down)
            {
                client.Dispose();
                continue;
            }

            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _upstreamPort);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            var link = new Link(client, server);
            _open.TryAdd(link, 0);
            _ = PumpAsync(link, toServer: true);
            _ = PumpAsync(link, toServer: false);
        }
    }

    private async Task PumpAsync(Link link, bool toServer)
    {
        var buffer = new byte[65_536];
        try
        {
            var (from, to) = toServer ? (link.Client.GetStream(), link.Server.GetStream()) : (link.Server.GetStream(), link.Client.GetStream());
            while (await from.ReadAsync(buffer) is var read and > 0)
            {
                var forward = _inspect?.Invoke(link, buffer.AsSpan(0, read), toServer) ?? Forward.Pass;
                if (forward == Forward.Close)
                {
                    break;
                }

                await to.WriteAsync(buffer.AsMemory(0, read));
                if (forward == Forward.PassThenStop)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // One side closed or was cut: the other side is closed below.
        }

        Close(link);
    }

    /// <summary>Closes both sides of the link (again is harmless).</summary>
    public void Close(Link link)
    {
        link.Client.Dispose();
        link.Server.Dispose();
        if (_open.TryRemove(link, out _))
        {
            _closed?.Invoke(link);
        }
    }

    /// <summary>One relayed connection: the client's socket and the server's, and what a test double keeps about it.</summary>
    public sealed class Link(TcpClient client, TcpClient server)
    {
        public TcpClient Client { get; } = client;

        public TcpClient Server { get; } = server;

        private object? _state;

        /// <summary>What the inspecting double keeps about this link: made at the first ask, by whichever side asks first.</summary>
        public T StateOf<T>() where T : class, new()
        {
            if (Volatile.Read(ref _state) is T state)
            {
                return state;
            }

            Interlocked.CompareExchange(ref _state, new T(), null);
            return (T)_state!;
        }

        /// <summary>The state, if any side asked for it.</summary>
        public object? State => Volatile.Read(ref _state);
    }
}
