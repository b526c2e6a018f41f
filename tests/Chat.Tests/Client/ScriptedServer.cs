using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Chat.Protocol;

namespace Chat.Tests.Client;

/// <summary>
/// A stand-in chat server that a test scripts frame by frame, to show the client frames a real server sends only
/// in rare races (repeats of seen seqs, a lost ACK). One connection at a time; frames are read and built with
/// Chat.Protocol, as the real server does.
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

    /// <summary>The next request the client sent.</summary>
    public async Task<Request> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(ClientProcess.Deadline);
        var line = await _reader!.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("the client closed the connection");
        Assert.True(RequestReader.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), out var request, out var error), error?.Message);
        return request;
    }

    /// <summary>Sends a frame as <see cref="ServerFrames"/> builds it (newline included).</summary>
    public async Task SendAsync(byte[] frame)
    {
        await _connection!.GetStream().WriteAsync(frame);
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

    /// <summary>
    /// Starts the console client against this server, logs in as <paramref name="id"/> from its menu and returns the
    /// client with the LOGIN it sent (the test answers it).
    /// </summary>
    public async Task<(ClientProcess Client, LoginRequest Login)> StartLoggingInAsync(int id, string password)
    {
        var client = ClientProcess.Start(Port);
        await AcceptAsync();
        await client.ExpectAsync("choice:");
        await client.SendAsync("1");
        await client.SendAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await client.SendAsync(password);
        return (client, Assert.IsType<LoginRequest>(await ReceiveAsync()));
    }
}
