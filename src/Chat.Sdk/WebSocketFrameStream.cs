using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Chat.Sdk;

/// <summary>
/// A client's WebSocket (<c>/ws</c>) as the chat's byte stream, so that code written for TCP speaks it unchanged:
/// each <c>'\n'</c> written ends a text message (bytes after the last one start the next), and each text message
/// received reads as its bytes followed by <c>'\n'</c>. Reading returns 0 once the server has closed (the close is
/// answered).
/// </summary>
public sealed class WebSocketFrameStream(WebSocket socket) : Stream
{
    private bool _newlineOwed;

    public WebSocket Socket => socket;

    /// <summary>Opens a WebSocket to <paramref name="uri"/> (<c>ws://host:port/ws</c>) over a TCP connection with Nagle off.</summary>
    /// <param name="source">Local address to connect from, or null for the kernel's choice.</param>
    /// <param name="receiveBuffer">Socket receive buffer, set before connecting (small: a client that does not read stalls sooner).</param>
    public static async Task<WebSocketFrameStream> ConnectAsync(Uri uri, IPAddress? source, int? receiveBuffer, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    if (receiveBuffer is { } size) tcp.ReceiveBufferSize = size;
                    if (source is not null) tcp.Bind(new IPEndPoint(source, 0));
                    await tcp.ConnectAsync(context.DnsEndPoint, token);
                    return new NetworkStream(tcp, ownsSocket: true);
                }
                catch
                {
                    tcp.Dispose();
                    throw;
                }
            },
        };
        using var invoker = new HttpMessageInvoker(handler);
        var client = new ClientWebSocket();
        try
        {
            await client.ConnectAsync(uri, invoker, ct);
            return new WebSocketFrameStream(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_newlineOwed)
        {
            _newlineOwed = false;
            buffer.Span[0] = (byte)'\n';
            return 1;
        }

        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                // Answer the close, as browsers do, so the server need not wait for it.
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                }

                return 0;
            }

            if (!received.EndOfMessage)
            {
                if (received.Count > 0) return received.Count;
                continue;
            }

            if (received.Count < buffer.Length)
            {
                buffer.Span[received.Count] = (byte)'\n';
                return received.Count + 1;
            }

            _newlineOwed = true;
            return received.Count;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var newline = buffer.Span.IndexOf((byte)'\n');
            if (newline < 0)
            {
                await socket.SendAsync(buffer, WebSocketMessageType.Text, endOfMessage: false, cancellationToken);
                return;
            }

            await socket.SendAsync(buffer[..newline], WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            buffer = buffer[(newline + 1)..];
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous only");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
