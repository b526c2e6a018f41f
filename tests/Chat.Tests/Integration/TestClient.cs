using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chat.Bench;
using Chat.Sdk;
using Chat.Protocol;

namespace Chat.Tests.Integration;

/// <summary>
/// A raw protocol client over real TCP for integration tests. Every receive has a deadline; absence is proven
/// with a PING barrier (the next frame must be its PONG), never by sleeping.
/// </summary>
public sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    // Raw UTF-8 on the wire, as the seed client (nlohmann::json) sends it.
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IDisposable _connection;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private int _barrier;

    private TestClient(IDisposable connection, Stream stream)
    {
        _connection = connection;
        _stream = stream;
        _reader = PipeReader.Create(_stream);
    }

    public int Id { get; private set; }

    public string Name { get; private set; } = "";

    /// <summary>The protocol version of the login (2: pushes reach it; 0: the seed's).</summary>
    public int Version { get; private set; }

    /// <param name="from">Local loopback address to connect from (any of 127.0.0.0/8), so the server sees another client IP.</param>
    /// <param name="receiveBuffer">Socket receive buffer, set before connecting: small makes a non-reading client stall sooner.</param>
    public static async Task<TestClient> ConnectAsync(int port, IPAddress? from = null, int? receiveBuffer = null)
    {
        var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        if (receiveBuffer is { } size)
        {
            tcp.ReceiveBufferSize = size;
        }

        await tcp.ConnectAsync("127.0.0.1", port);
        tcp.NoDelay = true;
        return new TestClient(tcp, tcp.GetStream());
    }

    /// <summary>
    /// Connects to <c>/ws</c> on an HTTP port (a replica's, or nginx's http server): the same client over a WebSocket,
    /// each frame one text message (<see cref="WebSocketFrameStream"/>).
    /// </summary>
    public static async Task<TestClient> ConnectWebSocketAsync(int httpPort, IPAddress? from = null, int? receiveBuffer = null)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var stream = await WebSocketFrameStream.ConnectAsync(new Uri($"ws://127.0.0.1:{httpPort}/ws"), from, receiveBuffer, deadline.Token);
        return new TestClient(stream, stream);
    }

    /// <summary>The WebSocket of a client made by <see cref="ConnectWebSocketAsync"/> (its close status once closed); null over TCP.</summary>
    public WebSocket? WebSocket => (_stream as WebSocketFrameStream)?.Socket;

    /// <summary>
    /// Sends <paramref name="bytes"/> on a fresh raw socket (then half-closes it when <paramref name="halfClose"/>) and
    /// returns everything the server sent until it closed the connection; a reset ends it too.
    /// </summary>
    public static async Task<string> ExchangeAsync(int port, byte[] bytes, bool halfClose)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port);
        await socket.SendAsync(bytes);
        if (halfClose)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        var received = new List<byte>();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, deadline.Token)) > 0)
            {
                received.AddRange(buffer[..n]);
            }
        }
        catch (SocketException)
        {
            // Reset by the server: what came before it is the answer.
        }

        return Encoding.UTF8.GetString([.. received]);
    }

    /// <summary>Connects over TLS, trusting exactly <paramref name="serverCertificate"/>.</summary>
    public static async Task<TestClient> ConnectTlsAsync(int port, X509Certificate2 serverCertificate)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        tcp.NoDelay = true;
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false,
            (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == serverCertificate.GetCertHashString());
        using var deadline = new CancellationTokenSource(Deadline);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, deadline.Token);
        return new TestClient(tcp, tls);
    }

    /// <summary>Registers a fresh user (unique name) on a new connection and logs it in.</summary>
    public static async Task<TestClient> LoggedInAsync(int port, string name, int v = 0, IPAddress? from = null) =>
        await RegisterAndLogInAsync(await ConnectAsync(port, from), name, v);

    /// <summary>Registers a fresh user (unique name) on <paramref name="client"/> and logs it in there.</summary>
    public static async Task<TestClient> RegisterAndLogInAsync(TestClient client, string name, int v = 0)
    {
        var id = await client.RegisterAsync(name, "pw-" + name);
        var ack = await client.LoginAsync(id, "pw-" + name, v);
        Assert.Equal(0, (int)ack[Field.Errno.Value]!);
        return client;
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)];

    /// <summary>Sends a request as Chat.Protocol writes it.</summary>
    public Task SendAsync(Request request) => SendRawAsync(RequestWriter.ToFrame(request));

    /// <summary>Sends <paramref name="frame"/> serialized as it is: for frames a real client would not send.</summary>
    public Task SendAsync(object frame, string terminator = "\n") =>
        SendRawAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(frame, Json) + terminator));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>The next frame, or a <see cref="TimeoutException"/>; null when the server closed the connection.</summary>
    public async Task<JsonObject?> ReceiveOrCloseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Deadline);
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(cts.Token);
                var buffer = result.Buffer;
                var newline = buffer.PositionOf((byte)'\n');
                if (newline is { } end)
                {
                    var line = buffer.Slice(0, end);
                    var json = JsonNode.Parse(Encoding.UTF8.GetString(line.ToArray()))!.AsObject();
                    _reader.AdvanceTo(buffer.GetPosition(1, end));
                    return json;
                }

                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return null;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no frame within {timeout ?? Deadline}");
        }
        catch (Exception e) when (e is IOException or WebSocketException)
        {
            return null;
        }
    }

    public async Task<JsonObject> ReceiveAsync(TimeSpan? timeout = null) =>
        await ReceiveOrCloseAsync(timeout) ?? throw new InvalidOperationException("the server closed the connection");

    /// <summary>Receives until a frame with <paramref name="msgid"/>; fails on anything else in between.</summary>
    public async Task<JsonObject> ReceiveAsync(int msgid)
    {
        var frame = await ReceiveAsync();
        Assert.True((int)frame[Field.MsgId.Value]! == msgid, $"expected msgid {msgid}, got {frame.ToJsonString()}");
        return frame;
    }

    /// <summary>Receives until a frame <paramref name="wanted"/> is true of, passing over the others (pushes that may come first).</summary>
    public async Task<JsonObject> ReceiveUntilAsync(Func<JsonObject, bool> wanted)
    {
        while (true)
        {
            var frame = await ReceiveAsync();
            if (wanted(frame))
            {
                return frame;
            }
        }
    }

    public async Task<JsonObject> RequestAsync(Request request)
    {
        await SendAsync(request);
        return await ReceiveAsync();
    }

    public async Task<JsonObject> RequestAsync(object frame)
    {
        await SendAsync(frame);
        return await ReceiveAsync();
    }

    public async Task<int> RegisterAsync(string name, string password)
    {
        var ack = await RequestAsync(new RegisterRequest(name, password));
        Assert.True((int)ack[Field.MsgId.Value]! == (int)MsgId.RegAck && (int)ack[Field.Errno.Value]! == 0, ack.ToJsonString());
        return (int)ack[Field.Id.Value]!;
    }

    public async Task<JsonObject> LoginAsync(int id, string password, int v = 0, IReadOnlyList<ResumePoint>? resume = null)
    {
        var ack = await RequestAsync(new LoginRequest(id, password, v, resume));
        if ((int)ack[Field.Errno.Value]! == 0)
        {
            Id = id;
            Name = (string)ack[Field.Name.Value]!;
            Version = v;
        }

        return ack;
    }

    /// <summary>Asserts that nothing else is queued for this client: the next frame is the PONG of a fresh PING.</summary>
    public async Task AssertNothingPendingAsync()
    {
        var cid = $"barrier-{++_barrier}";
        await SendAsync(new PingRequest { Cid = Cid.From(cid) });
        var frame = await ReceiveAsync();
        Assert.True((int)frame[Field.MsgId.Value]! == (int)MsgId.Pong && (string?)frame[Field.Cid.Value] == cid, $"expected only the PONG, got {frame.ToJsonString()}");
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        _connection.Dispose();
    }
}
