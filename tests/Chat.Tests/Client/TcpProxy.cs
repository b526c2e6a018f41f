using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Chat.Tests.Client;

/// <summary>
/// A loopback TCP relay to a server port that a test can cut: <see cref="Cut"/> closes every relayed connection and
/// closes new ones at once until <see cref="Restore"/>, like a network outage.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<TcpClient, byte> _open = new();
    private readonly Task _accepting;
    private volatile bool _down;

    private TcpProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static TcpProxy Start(int upstreamPort) => new(upstreamPort);

    public void Cut()
    {
        _down = true;
        foreach (var connection in _open.Keys)
        {
            connection.Dispose();
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

            _open.TryAdd(client, 0);
            _open.TryAdd(server, 0);
            _ = RelayAsync(client, server);
            _ = RelayAsync(server, client);
        }
    }

    private async Task RelayAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // One side closed or was cut: the other side is closed below.
        }
        finally
        {
            _open.TryRemove(from, out _);
            _open.TryRemove(to, out _);
            from.Dispose();
            to.Dispose();
        }
    }
}
