using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Chat.Tests.Client;

/// <summary>
/// A stand-in chat server that a test scripts frame by frame, to show the client frames a real server sends only
/// in rare races (repeats of seen seqs, a lost ACK). One connection at a time.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private TcpClient? _connection;
    private StreamReader? _reader;

    public ScriptedServer() => _listener.Start();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async Task AcceptAsync()
    {
        using var cts = new CancellationTokenSource(ClientProcess.Deadline);
        _connection = await _listener.AcceptTcpClientAsync(cts.Token);
        _reader = new StreamReader(_connection.GetStream(), new UTF8Encoding(false));
    }

    /// <summary>The next frame the client sent.</summary>
    public async Task<JsonObject> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(ClientProcess.Deadline);
        var line = await _reader!.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("the client closed the connection");
        return JsonNode.Parse(line)!.AsObject();
    }

    public async Task SendAsync(string json)
    {
        await _connection!.GetStream().WriteAsync(Encoding.UTF8.GetBytes(json + "\n"));
    }

    /// <summary>Drops the connection, as a crashed server or a broken network would.</summary>
    public void Drop()
    {
        _reader?.Dispose();
        _connection?.Dispose();
        _connection = null;
    }

    public ValueTask DisposeAsync()
    {
        Drop();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
