using System.Buffers;
using System.Net;
using System.Threading.Channels;
using Chat.Server.Telemetry;
using Microsoft.AspNetCore.Connections;

namespace Chat.Server.Connections;

/// <summary>
/// One client connection. It owns the connection's writer: every frame, reply or push, goes through one bounded
/// queue drained by <see cref="RunWriterAsync"/>, so no caller ever waits on the client. A client that lets the
/// queue fill is disconnected; what was not written stays beyond its cursors and comes again at its next login.
/// </summary>
public sealed class ChatSession(ConnectionContext connection, int queueCapacity, ChatMetrics? metrics = null)
{
    private readonly Channel<Outbound> _outbound = Channel.CreateBounded<Outbound>(
        new BoundedChannelOptions(queueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private Task _writer = Task.CompletedTask;
    private volatile UserSession? _user;
    private int _slow;

    public string ConnectionId => connection.ConnectionId;

    public ChatMetrics? Metrics => metrics;

    /// <summary>The logged-in user, or null before login and after LOGINOUT.</summary>
    public UserSession? User => _user;

    public void Send(ReadOnlyMemory<byte> frame) => Enqueue(new Outbound(frame));

    /// <summary>Queues a stored message for this connection's user, unless it is a duplicate.</summary>
    public void Deliver(Delivery delivery)
    {
        var user = _user;
        if (user is null)
        {
            return;
        }

        lock (user.Gate)
        {
            if (!user.TryPark(delivery))
            {
                Queue(user, delivery);
            }
        }
    }

    public void BeginLogin(UserSession user) => _user = user;

    /// <summary>
    /// Queues LOGIN_ACK (with the offline messages it carries), then whatever live messages arrived while it was
    /// being prepared, minus those it already carries.
    /// </summary>
    public void CompleteLogin(UserSession user, ReadOnlyMemory<byte> ack, IReadOnlyList<(long ConversationId, long Seq)> offline)
    {
        lock (user.Gate)
        {
            foreach (var (conversation, seq) in offline)
            {
                user.TryQueue(conversation, seq);
            }

            Enqueue(new Outbound(ack, user, DeliveredBatch: offline));
            foreach (var delivery in user.Unpark())
            {
                Queue(user, delivery);
            }
        }
    }

    public void EndLogin() => _user = null;

    /// <summary>The client's IP address (IPv4-mapped addresses as IPv4), or null when the transport has none.</summary>
    public IPAddress? RemoteAddress => connection.RemoteEndPoint is IPEndPoint { Address: var address }
        ? address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address
        : null;

    /// <summary>Failed LOGIN and REG attempts on this connection (touched only by its read loop).</summary>
    public int FailedLogins { get; set; }

    /// <summary>Set by a handler that wants the connection closed once the replies queued so far are written.</summary>
    public bool Closing { get; private set; }

    public void CloseAfterReplies() => Closing = true;

    /// <summary>Completes once every frame queued so far has been written, or the connection is gone.</summary>
    public Task WhenWrittenAsync()
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _outbound.Writer.TryWrite(new Outbound(default, Written: written))
            ? Task.WhenAny(written.Task, _writer)
            : Task.CompletedTask;
    }

    public void Abort(string reason) => connection.Abort(new ConnectionAbortedException(reason));

    public void StartWriter() => _writer = RunWriterAsync();

    /// <summary>No more frames: the writer drains the queue and stops.</summary>
    public Task CompleteWriterAsync()
    {
        _outbound.Writer.TryComplete();
        return _writer;
    }

    private void Queue(UserSession user, Delivery delivery)
    {
        if (user.TryQueue(delivery.ConversationId, delivery.Seq))
        {
            Enqueue(new Outbound(delivery.Frame, user, delivery));
        }
    }

    private void Enqueue(Outbound frame)
    {
        if (!_outbound.Writer.TryWrite(frame) && !_outbound.Reader.Completion.IsCompleted)
        {
            metrics?.OutboundDropped();
            if (Interlocked.Exchange(ref _slow, 1) == 0)
            {
                metrics?.SlowConsumerDisconnected();
            }

            Abort("outgoing queue full: the client is not reading");
        }
    }

    private async Task RunWriterAsync()
    {
        const int MaxBatch = 256;
        var output = connection.Transport.Output;
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync())
            {
                // Rented per wake-up, not held: an idle connection keeps no batch array.
                var batch = ArrayPool<Outbound>.Shared.Rent(MaxBatch);
                var count = 0;
                try
                {
                    while (count < MaxBatch && reader.TryRead(out var item))
                    {
                        if (!item.Frame.IsEmpty)
                        {
                            output.Write(item.Frame.Span);
                            metrics?.FrameSent(item.Frame.Span);
                        }

                        batch[count++] = item;
                    }

                    var flushed = await output.FlushAsync();
                    for (var i = 0; i < count; i++)
                    {
                        OnWritten(batch[i]);
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

    private static void OnWritten(Outbound item)
    {
        if (item.Delivered is { } delivery)
        {
            item.Owner!.Written(delivery.ConversationId, delivery.Seq);
        }

        if (item.DeliveredBatch is { } batch)
        {
            foreach (var (conversation, seq) in batch)
            {
                item.Owner!.Written(conversation, seq);
            }
        }

        item.Written?.TrySetResult();
    }
}
