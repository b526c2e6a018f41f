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
/// task, so a caller never blocks on the socket; frames come in typed (<see cref="ServerFrameReader"/>). With a heartbeat,
/// a link that has sent nothing for that long sends PING, so the server's idle timeout (5 min by default) and a
/// balancer's never close a connection that is merely quiet; the PONGs come in as <see cref="PongMessage"/> without a cid.
/// </summary>
public sealed class ChatLink : IAsyncDisposable
{
    /// <summary>Longest frame accepted from the server (a LOGIN_ACK with many offline messages is large).</summary>
    private const long MaxFrameBytes = 64L << 20;

    private static readonly byte[] Ping = RequestWriter.ToFrame(new PingRequest());

    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly Channel<byte[]> _outbound = Channel.CreateUnbounded<byte[]>(new() { SingleReader = true });
    private readonly TimeSpan? _heartbeat;
    private readonly Task _writing;

    private ChatLink(Stream stream, TimeSpan? heartbeat)
    {
        _stream = stream;
        _reader = PipeReader.Create(stream);
        _heartbeat = heartbeat;
        _writing = WriteLoopAsync();
    }

    /// <summary>Connects to <c>tcp://host:port</c> or <c>ws://host:port/ws</c> (<c>wss://</c> too), with no heartbeat.</summary>
    public static Task<ChatLink> ConnectAsync(Uri endpoint, CancellationToken ct = default) => ConnectAsync(endpoint, heartbeat: null, ct);

    /// <summary>Connects to <c>tcp://host:port</c> or <c>ws://host:port/ws</c> (<c>wss://</c> too).</summary>
    /// <param name="heartbeat">After this long with nothing sent, a PING goes out; null: never.</param>
    public static async Task<ChatLink> ConnectAsync(Uri endpoint, TimeSpan? heartbeat, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (heartbeat <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(heartbeat), heartbeat, "a heartbeat is longer than zero");
        }

        if (endpoint.Scheme is "ws" or "wss")
        {
            return new ChatLink(await WebSocketFrameStream.ConnectAsync(endpoint, source: null, receiveBuffer: null, ct), heartbeat);
        }

        if (endpoint.Scheme != "tcp")
        {
            throw new ArgumentException($"tcp://host:port or ws://host:port/ws, not {endpoint}", nameof(endpoint));
        }

        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(endpoint.Host, endpoint.Port, ct);
            return new ChatLink(tcp.GetStream(), heartbeat);
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

    /// <summary>True when frames wait to be written; false when the queue is done. Sends PING while it stays quiet.</summary>
    private async Task<bool> NextOrHeartbeatAsync(ChannelReader<byte[]> frames)
    {
        if (_heartbeat is not { } heartbeat)
        {
            return await frames.WaitToReadAsync();
        }

        while (true)
        {
            using var quiet = new CancellationTokenSource(heartbeat);
            try
            {
                return await frames.WaitToReadAsync(quiet.Token);
            }
            catch (OperationCanceledException) when (quiet.IsCancellationRequested)
            {
                await _stream.WriteAsync(Ping);
                await _stream.FlushAsync();
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            var frames = _outbound.Reader;
            while (await NextOrHeartbeatAsync(frames))
            {
                while (frames.TryRead(out var frame))
                {
                    await _stream.WriteAsync(frame);
                }

                await _stream.FlushAsync();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or System.Net.WebSockets.WebSocketException)
        {
            Abort();
        }
    }
}
