using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Chat.Protocol;

namespace Chat.Client;

/// <summary>
/// One TCP connection to the server: frames out through a queue and one writer task (so a caller never blocks on
/// the socket), frames in one <c>\n</c>-terminated JSON object at a time.
/// </summary>
public sealed class ServerConnection : IAsyncDisposable
{
    /// <summary>Longest frame accepted from the server (a LOGIN_ACK with many offline messages is large).</summary>
    private const long MaxFrameBytes = 64L << 20;

    private static readonly byte[] Ping = RequestWriter.ToFrame(new PingRequest());

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly Channel<byte[]> _outbound = Channel.CreateUnbounded<byte[]>(new() { SingleReader = true });
    private readonly TimeSpan _heartbeat;
    private readonly Task _writing;

    private ServerConnection(TcpClient tcp, TimeSpan heartbeat)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = PipeReader.Create(_stream);
        _heartbeat = heartbeat;
        _writing = WriteLoopAsync();
    }

    /// <param name="heartbeat">After this long with nothing sent, a PING goes out.</param>
    public static async Task<ServerConnection> ConnectAsync(string host, int port, TimeSpan heartbeat, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, ct);
            return new ServerConnection(tcp, heartbeat);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Queues a frame; false when the connection is already closing.</summary>
    public bool Send(byte[] frame) => _outbound.Writer.TryWrite(frame);

    /// <summary>The next frame, or null once the connection is closed or broken.</summary>
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
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Closes the socket: a pending <see cref="ReceiveAsync"/> returns null.</summary>
    public void Abort()
    {
        _outbound.Writer.TryComplete();
        _tcp.Client.Close();
    }

    /// <summary>Waits (bounded) until the queued frames are written, then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        _outbound.Writer.TryComplete();
        await _writing.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _tcp.Dispose();
        await _reader.CompleteAsync();
    }

    /// <summary>The frame as a typed message; null for one that is not a JSON object (skipped).</summary>
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

    /// <summary>True when frames wait to be written; false when the queue is done. Sends PING when it stays quiet.</summary>
    private async Task<bool> NextOrHeartbeatAsync(ChannelReader<byte[]> frames)
    {
        while (true)
        {
            using var quiet = new CancellationTokenSource(_heartbeat);
            try
            {
                return await frames.WaitToReadAsync(quiet.Token);
            }
            catch (OperationCanceledException) when (quiet.IsCancellationRequested)
            {
                await _stream.WriteAsync(Ping);
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
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Abort();
        }
    }
}
