using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Chat.Server.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Chat.Server.Transport;

/// <summary>
/// One client connection and its writer. Every frame, reply or push, goes through one queue drained by
/// <see cref="RunWriterAsync"/>, so no caller ever waits on the client. The queue is bounded in bytes
/// (<see cref="ConnectionOptions.OutboundQueueBytes"/>): a client that lets it fill is disconnected, and what was not
/// written stays beyond its cursors for its next login. What the requests on it did (who logged in, the sends in flight,
/// failed logins) is not kept here but on the request layer's context (<c>Sessions.RequestContext</c>).
/// </summary>
public sealed class ChatConnection
{
    /// <summary>What a queued item costs beyond its bytes, so that a flood of tiny frames is bounded too.</summary>
    private const int ItemOverhead = 64;

    private readonly ConnectionContext _connection;
    private readonly ChatMetrics? _metrics;
    private readonly long _budget;
    private readonly Channel<Outbound> _outbound = Channel.CreateUnbounded<Outbound>(new UnboundedChannelOptions { SingleReader = true });
    private Task _writer = Task.CompletedTask;
    private long _queuedBytes;
    private int _slow;

    public ChatConnection(ConnectionContext connection, ConnectionOptions options, ChatMetrics? metrics = null)
    {
        _connection = connection;
        _metrics = metrics;
        _budget = options.OutboundQueueBytes;
    }

    public string ConnectionId => _connection.ConnectionId;

    /// <summary>The client's IP address (IPv4-mapped addresses as IPv4), or null when the transport has none.</summary>
    public IPAddress? RemoteAddress => _connection.RemoteEndPoint is IPEndPoint { Address: var address }
        ? address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address
        : null;

    /// <summary>Set by a handler that wants the connection closed once the replies queued so far are written.</summary>
    public bool Closing { get; private set; }

    /// <summary>
    /// The client has closed the connection (or reset it), even though the read loop, busy with a request, has not read
    /// that far: the socket reads as at its end. Work for such a client is work nobody waits for. A client that only
    /// half-closed after its last request counts as gone too.
    /// </summary>
    public bool ClientGone
    {
        get
        {
            if (_connection.ConnectionClosed.IsCancellationRequested)
            {
                return true;
            }

            if (_connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
            {
                return false;
            }

            try
            {
                return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return true;
            }
        }
    }

    /// <summary>Bytes waiting to be written now.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    public void CloseAfterReplies() => Closing = true;

    /// <summary>Closes the connection from outside its read loop (the session was replaced): frames queued so far are still written.</summary>
    public void CloseFromOutside()
    {
        Closing = true;
        _connection.Transport.Input.CancelPendingRead();
    }

    /// <summary>The read loop stops at its next read, without marking the connection closing (the drain: the session ends as at the client's close).</summary>
    public void StopReading() => _connection.Transport.Input.CancelPendingRead();

    /// <summary>Queues a frame; one the budget has no room for disconnects the client instead.</summary>
    public void Send(ReadOnlyMemory<byte> frame, IDeliveryReceipt? owner = null, Delivered delivered = default)
    {
        var cost = frame.Length + ItemOverhead;
        if (Interlocked.Add(ref _queuedBytes, cost) > _budget && !_outbound.Reader.Completion.IsCompleted)
        {
            Interlocked.Add(ref _queuedBytes, -cost);
            Overflow();
            return;
        }

        if (!_outbound.Writer.TryWrite(new Outbound(frame, owner, delivered)))
        {
            Interlocked.Add(ref _queuedBytes, -cost);
        }
    }

    /// <summary>Completes once every frame queued so far has been written, or the connection is gone.</summary>
    public Task WhenWrittenAsync()
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _outbound.Writer.TryWrite(new Outbound(default, Written: written))
            ? Task.WhenAny(written.Task, _writer)
            : Task.CompletedTask;
    }

    public void Abort(string reason) => _connection.Abort(new ConnectionAbortedException(reason));

    public void StartWriter() => _writer = RunWriterAsync();

    /// <summary>No more frames: the writer drains the queue and stops.</summary>
    public Task CompleteWriterAsync()
    {
        _outbound.Writer.TryComplete();
        return _writer;
    }

    private void Overflow()
    {
        _metrics?.OutboundDropped();
        if (Interlocked.Exchange(ref _slow, 1) == 0)
        {
            _metrics?.SlowConsumerDisconnected();
            _outbound.Writer.TryComplete();
            Abort("outgoing queue full: the client is not reading");
        }
    }

    private async Task RunWriterAsync()
    {
        const int MaxBatch = 256;
        var output = _connection.Transport.Output;
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync())
            {
                // Rented per wake-up, not held: an idle connection keeps no batch array.
                var batch = ArrayPool<Outbound>.Shared.Rent(MaxBatch);
                var count = 0;
                long bytes = 0;
                try
                {
                    while (count < MaxBatch && reader.TryRead(out var item))
                    {
                        if (!item.Frame.IsEmpty)
                        {
                            output.Write(item.Frame.Span);
                            _metrics?.FrameSent(item.Frame.Span);
                            bytes += item.Frame.Length + ItemOverhead;
                        }

                        batch[count++] = item;
                    }

                    var flushed = await output.FlushAsync();
                    Interlocked.Add(ref _queuedBytes, -bytes);
                    for (var i = 0; i < count; i++)
                    {
                        batch[i].OnWritten();
                    }

                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        break;
                    }
                }
                finally
                {
                    // Clear only what was used (it holds references); clearArray would wipe all 12 KB every flush.
                    Array.Clear(batch, 0, count);
                    ArrayPool<Outbound>.Shared.Return(batch);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or ConnectionAbortedException)
        {
            // The client is gone: what was not written stays beyond its cursors.
        }
        finally
        {
            _outbound.Writer.TryComplete();
        }
    }
}
