using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Chat.Protocol;

namespace Chat.Sdk;

/// <summary>
/// One connection to a replica or to nginx: <c>tcp://host:port</c> (frames end with <c>\n</c>) or <c>ws://host:port/ws</c>
/// (one frame per text message, through <see cref="WebSocketFrameStream"/>). Frames go out through a queue and one writer
/// task, so a caller never blocks on the socket; frames come in typed (<see cref="ServerFrameReader"/>).
/// </summary>
public sealed class ChatLink : IAsyncDisposable
{
    /// <summary>Longest frame accepted from the server (a LOGIN_ACK with many offline messages is large).</summary>
    private const long MaxFrameBytes = 64L << 20;

    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly Channel<byte[]> _outbound = Channel.CreateUnbounded<byte[]>(new() { SingleReader = true });
    private readonly Task _writing;

    private ChatLink(Stream stream)
    {
        _stream = stream;
        _reader = PipeReader.Create(stream);
        _writing = WriteLoopAsync();
    }

    /// <summary>Connects to <c>tcp://host:port</c> or <c>ws://host:port/ws</c> (<c>wss://</c> too).</summary>
    public static async Task<ChatLink> ConnectAsync(Uri endpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Scheme is "ws" or "wss")
        {
            return new ChatLink(await WebSocketFrameStream.ConnectAsync(endpoint, source: null, receiveBuffer: null, ct));
        }

        if (endpoint.Scheme != "tcp")
        {
            throw new ArgumentException($"tcp://host:port or ws://host:port/ws, not {endpoint}", nameof(endpoint));
        }

        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(endpoint.Host, endpoint.Port, ct);
            return new ChatLink(tcp.GetStream());
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Queues a request; false when the link is closing.</summary>
    public bool Send(Request request) => _outbound.Writer.TryWrite(RequestWriter.ToFrame(request));

    /// <summary>The next frame, or null once the link is closed or broken. Frames that are not JSON objects are skipped.</summary>
    public async Task<ServerMessage?> ReceiveAsync()
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync();
                var buffer = result.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    var frame = line.Length == 0 ? null : Parse(line);
                    _reader.AdvanceTo(buffer.GetPosition(1, end));
                    if (frame is not null)
                    {
                        return frame;
                    }

                    continue;
                }

                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || buffer.Length > MaxFrameBytes)
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException or System.Net.WebSockets.WebSocketException)
        {
            return null;
        }
    }

    /// <summary>Closes the connection at once: a pending <see cref="ReceiveAsync"/> returns null.</summary>
    public void Abort()
    {
        _outbound.Writer.TryComplete();
        _stream.Dispose();
    }

    /// <summary>Waits (bounded) until the queued frames are written, then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        _outbound.Writer.TryComplete();
        await _writing.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stream.DisposeAsync();
        await _reader.CompleteAsync();
    }

    private static ServerMessage? Parse(ReadOnlySequence<byte> line)
    {
        try
        {
            return ServerFrameReader.Read(line.IsSingleSegment ? line.FirstSpan : line.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var frame in _outbound.Reader.ReadAllAsync())
            {
                await _stream.WriteAsync(frame);
                await _stream.FlushAsync();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or System.Net.WebSockets.WebSocketException)
        {
            Abort();
        }
    }
}
