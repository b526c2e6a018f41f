using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Chat.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Chat.Server.Transport;

/// <summary>
/// A WebSocket (<c>GET /ws</c>) as a chat connection, so that the chat port's <see cref="ChatConnectionHandler"/> runs
/// over it unchanged: the same read loop and frame limit, writer and byte budget, registry, drain and sessions. Each
/// text message received goes into the read loop's pipe as one frame (line breaks and NULs inside it read as
/// whitespace, so it stays one); each <c>'\n'</c>-ended frame the writer puts out leaves as one text message.
/// What ends a connection is told with a close code: a message over <see cref="ConnectionOptions.MaxFrameBytes"/> 1009
/// (after the read loop's ERROR, as on TCP), a binary message 1003 (after an ERROR), a client that lets its outgoing
/// queue fill 1008, the replica shutting down 1001, anything else 1000. Invalid UTF-8 gets 1007 from the WebSocket
/// itself, which fails the connection before any frame can be written.
/// </summary>
public sealed class WebSocketConnection : ConnectionContext
{
    /// <summary>How long the last frames and the close handshake may take before the socket is dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private static readonly Ending Normal = new(WebSocketCloseStatus.NormalClosure, "", default);
    private static readonly Ending ShuttingDown = new(WebSocketCloseStatus.EndpointUnavailable, "the replica is shutting down", default);

    private const int ReceiveChunk = 4096;
    private const int MinReceive = 512;

    private readonly WebSocket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output = new(InlineOptions());
    private readonly CancellationTokenSource _closed = new();
    private readonly ConnectionRegistry _registry;
    private readonly int _maxFrameBytes;
    private Ending? _ending;

    public WebSocketConnection(WebSocket socket, ConnectionInfo peer, ConnectionOptions options, ConnectionRegistry registry)
    {
        _socket = socket;
        _registry = registry;
        _maxFrameBytes = options.MaxFrameBytes;
        // A frame is only consumed once complete: the pipe must take a whole frame over the limit (the read loop then
        // answers it) and resume while one partial frame is buffered, or the reader and the writer wait on each other.
        var resume = _maxFrameBytes + 2 * ReceiveChunk;
        _input = new Pipe(InlineOptions(pauseWriterThreshold: 2 * resume, resumeWriterThreshold: resume));
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        ConnectionId = peer.Id;
        RemoteEndPoint = peer.RemoteIpAddress is { } remote ? new IPEndPoint(remote, peer.RemotePort) : null;
        LocalEndPoint = peer.LocalIpAddress is { } local ? new IPEndPoint(local, peer.LocalPort) : null;
        ConnectionClosed = _closed.Token;
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new ConnectionItems();

    public override IDuplexPipe Transport { get; set; }

    /// <summary>Runs <paramref name="handler"/> over this WebSocket, then closes it with the code that says why it ended.</summary>
    public async Task RunAsync(ConnectionHandler handler)
    {
        var receiving = ReceiveAsync();
        var sending = SendAsync();
        try
        {
            await handler.OnConnectedAsync(this);
        }
        finally
        {
            await _output.Writer.CompleteAsync();
            await _input.Reader.CompleteAsync();
            await CloseAsync(sending, receiving);
        }
    }

    /// <summary>The client is cut off (its outgoing queue is full, or the drain timed out): reading and writing stop.</summary>
    public override void Abort(ConnectionAbortedException abortReason)
    {
        End(_registry.Draining ? ShuttingDown : new(WebSocketCloseStatus.PolicyViolation, "the client does not read", default));
        _input.Reader.CancelPendingRead();
        _output.Writer.CancelPendingFlush();
    }

    /// <summary>Received messages into the read loop's pipe, one frame each; once that stops, the rest is discarded until the close.</summary>
    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        var feeding = true;
        var discard = Memory<byte>.Empty;
        long messageBytes = 0;
        try
        {
            while (true)
            {
                // The rest of the pipe's current buffer (a fresh one only when under MinReceive is left), at most a
                // chunk: small messages share buffers instead of pinning one each while the read loop is behind.
                var memory = feeding ? writer.GetMemory(MinReceive) : discard;
                memory = memory.Length > ReceiveChunk ? memory[..ReceiveChunk] : memory;
                var received = await _socket.ReceiveAsync(memory, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (!feeding)
                {
                    continue;
                }

                if (received.MessageType == WebSocketMessageType.Binary)
                {
                    End(new(WebSocketCloseStatus.InvalidMessageType, "binary message",
                        ServerFrames.Error(ErrorCode.BadRequest, "binary messages are not frames: send each frame as a text message", null)));
                }
                else
                {
                    AsWhitespace(memory.Span[..received.Count]);
                    writer.Advance(received.Count);
                    messageBytes += received.Count;
                    if (messageBytes > _maxFrameBytes)
                    {
                        // The read loop answers a frame this long with ERROR, as on TCP; no more of it is buffered.
                        End(new(WebSocketCloseStatus.MessageTooBig, $"message over {_maxFrameBytes} bytes", default));
                    }
                    else if (received.EndOfMessage)
                    {
                        writer.Write("\n"u8);
                        messageBytes = 0;
                    }

                    if (!(await writer.FlushAsync()).IsCompleted && _ending is null)
                    {
                        continue;
                    }
                }

                feeding = false;
                discard = new byte[ReceiveChunk];
                await writer.CompleteAsync();
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ConnectionAbortedException or OperationCanceledException)
        {
            // The client went away without a close.
        }
        finally
        {
            await writer.CompleteAsync();
            await _closed.CancelAsync();
        }
    }

    /// <summary>The writer's frames out, one text message each (without the '\n').</summary>
    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var frame = buffer.Slice(0, end);
                    var left = frame.Length;
                    foreach (var segment in frame)
                    {
                        left -= segment.Length;
                        await _socket.SendAsync(segment, WebSocketMessageType.Text, endOfMessage: left == 0, CancellationToken.None);
                    }

                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ConnectionAbortedException or OperationCanceledException)
        {
            // The client is gone: the writer sees the pipe completed and stops.
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    /// <summary>What the handler queued goes out, then the ERROR of a violation the read loop never saw, then the close.</summary>
    private async Task CloseAsync(Task sending, Task receiving)
    {
        using var deadline = new CancellationTokenSource(CloseTimeout);
        try
        {
            await sending.WaitAsync(deadline.Token);
            var ending = _ending ?? (_registry.Draining ? ShuttingDown : Normal);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                if (!ending.Error.IsEmpty)
                {
                    await _socket.SendAsync(ending.Error[..^1], WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
                }

                await _socket.CloseOutputAsync(ending.Status, ending.Reason, deadline.Token);
            }

            await receiving.WaitAsync(deadline.Token);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            // A client that does not answer in time is dropped below.
        }
        finally
        {
            _socket.Abort();
        }
    }

    /// <summary>
    /// Each side of a pipe continues on the thread that woke it, as the chat port's sockets do (see
    /// <c>ConfigureChatKestrel</c>): a frame goes from the WebSocket to its handler, and from the writer to the WebSocket,
    /// without a hop through the thread pool. Safe for the same reason: nothing on either side blocks.
    /// </summary>
    private static PipeOptions InlineOptions(long pauseWriterThreshold = -1, long resumeWriterThreshold = -1) =>
        new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: pauseWriterThreshold, resumeWriterThreshold: resumeWriterThreshold, useSynchronizationContext: false);

    /// <summary>The first reason to end wins.</summary>
    private void End(Ending ending) => Interlocked.CompareExchange(ref _ending, ending, null);

    /// <summary>Bytes that end a frame on TCP (and '\r') become tabs: whitespace between JSON tokens, still invalid inside a string.</summary>
    private static void AsWhitespace(Span<byte> message)
    {
        int at;
        while ((at = message.IndexOfAny((byte)'\n', (byte)'\r', (byte)'\0')) >= 0)
        {
            message[at] = (byte)'\t';
            message = message[(at + 1)..];
        }
    }

    /// <param name="Error">An ERROR frame ('\n'-ended) to send before the close, for a violation the read loop does not see.</param>
    private sealed record Ending(WebSocketCloseStatus Status, string Reason, ReadOnlyMemory<byte> Error);

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
