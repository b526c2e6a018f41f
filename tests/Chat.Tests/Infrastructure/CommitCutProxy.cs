using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Chat.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay to a database port that cuts one connection right after its client sent a commit: armed with
/// <see cref="CutAfter"/>, the first connection whose client→server bytes hold <c>marker</c> and then <c>commit</c>
/// has those bytes delivered to the server, the server's answer withheld (the proxy waits for it, so the server has
/// acted on the commit) and then both sides closed. The client cannot tell whether its transaction committed.
/// </summary>
public sealed class CommitCutProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<Pair, byte> _open = new();
    private readonly Task _accepting;
    private Trigger? _armed;
    private TaskCompletionSource _cut = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CommitCutProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes when the armed cut has happened.</summary>
    public Task Cut => _cut.Task;

    /// <summary>Whether the server had answered the cut commit before the cut (it always has unless it took 10 s).</summary>
    public bool ServerAnswered { get; private set; }

    public static CommitCutProxy Start(int upstreamPort) => new(upstreamPort);

    /// <summary>Arms a single cut: see the class summary.</summary>
    public void CutAfter(byte[] marker, byte[] commit)
    {
        _cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _armed = new Trigger(marker, commit);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        foreach (var pair in _open.Keys)
        {
            pair.Close();
        }

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

            var pair = new Pair(client, server);
            _open.TryAdd(pair, 0);
            _ = ClientToServerAsync(pair);
            _ = ServerToClientAsync(pair);
        }
    }

    private async Task ClientToServerAsync(Pair pair)
    {
        var buffer = new byte[65_536];
        var seen = new List<byte>();
        try
        {
            var (from, to) = (pair.Client.GetStream(), pair.Server.GetStream());
            while (await from.ReadAsync(buffer) is var read and > 0)
            {
                if (_armed is { } armed)
                {
                    seen.AddRange(buffer.AsSpan(0, read));
                    var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seen);
                    var marker = span.IndexOf(armed.Marker);
                    if (marker >= 0 && span[marker..].IndexOf(armed.Commit) >= 0 && Interlocked.Exchange(ref _armed, null) is not null)
                    {
                        pair.Cutting = true; // before the server can answer
                        await to.WriteAsync(buffer.AsMemory(0, read));
                        _ = CloseLaterAsync(pair);
                        return;
                    }
                }

                await to.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // One side closed or was cut.
        }

        Close(pair);
    }

    private async Task ServerToClientAsync(Pair pair)
    {
        var buffer = new byte[65_536];
        try
        {
            var (from, to) = (pair.Server.GetStream(), pair.Client.GetStream());
            while (await from.ReadAsync(buffer) is var read and > 0)
            {
                if (pair.Cutting)
                {
                    ServerAnswered = true;
                    break;
                }

                await to.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // One side closed or was cut.
        }

        Close(pair);
    }

    /// <summary>The cut connection closes when the server answers (<see cref="ServerToClientAsync"/>), or after 10 s.</summary>
    private async Task CloseLaterAsync(Pair pair)
    {
        await Task.Delay(TimeSpan.FromSeconds(10));
        Close(pair);
    }

    private void Close(Pair pair)
    {
        pair.Close();
        _open.TryRemove(pair, out _);
        if (pair.Cutting)
        {
            _cut.TrySetResult();
        }
    }

    private sealed record Trigger(byte[] Marker, byte[] Commit);

    private sealed class Pair(TcpClient client, TcpClient server)
    {
        public TcpClient Client { get; } = client;

        public TcpClient Server { get; } = server;

        public volatile bool Cutting;

        public void Close()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }
}
