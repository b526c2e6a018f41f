using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Chat.Tests.Integration;

namespace Chat.Tests.Transport;

/// <summary>
/// A WebSocket spoken by hand over a TCP socket (RFC 6455: handshake, masked frames under 126 bytes), for what
/// ClientWebSocket hides: control frames. Pings from the server are not answered unless the test does so.
/// </summary>
internal sealed class RawWebSocket : IAsyncDisposable
{
    public const byte Text = 0x1;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawWebSocket> ConnectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var socket = new RawWebSocket(tcp);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await socket._stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = new StringBuilder();
        using var deadline = new CancellationTokenSource(TestClient.Deadline);
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            head.Append((char)await socket.ReadByteAsync(deadline.Token));
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return socket;
    }

    public async Task SendAsync(byte opcode, byte[] payload)
    {
        Assert.InRange(payload.Length, 0, 125);
        var mask = RandomNumberGenerator.GetBytes(4);
        byte[] frame = [(byte)(0x80 | opcode), (byte)(0x80 | payload.Length), .. mask, .. payload.Select((b, i) => (byte)(b ^ mask[i % 4]))];
        await _stream.WriteAsync(frame);
    }

    /// <summary>The next frame; null when the server closed the TCP connection.</summary>
    public async Task<(byte Opcode, byte[] Payload)?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TestClient.Deadline);
        try
        {
            var first = await ReadByteAsync(deadline.Token);
            long length = await ReadByteAsync(deadline.Token) & 0x7F;
            var extended = length switch { 126 => 2, 127 => 8, _ => 0 };
            if (extended > 0)
            {
                length = 0;
                for (var i = 0; i < extended; i++)
                {
                    length = (length << 8) + await ReadByteAsync(deadline.Token);
                }
            }

            var payload = new byte[length];
            await _stream.ReadExactlyAsync(payload, deadline.Token);
            return ((byte)(first & 0x0F), payload);
        }
        catch (EndOfStreamException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Frames until one with <paramref name="opcode"/>, skipping others (e.g. keep-alive pings).</summary>
    public async Task<byte[]> ReceiveAsync(byte opcode)
    {
        while (true)
        {
            var frame = await ReceiveAsync() ?? throw new InvalidOperationException($"the server closed the connection before opcode {opcode}");
            if (frame.Opcode == opcode)
            {
                return frame.Payload;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<int> ReadByteAsync(CancellationToken ct)
    {
        var one = new byte[1];
        await _stream.ReadExactlyAsync(one, ct);
        return one[0];
    }
}
