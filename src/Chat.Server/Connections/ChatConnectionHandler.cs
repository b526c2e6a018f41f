using System.IO.Pipelines;
using Chat.Domain.Protocol;
using Chat.Server.Hosting;
using Chat.Server.Protocol;
using Chat.Server.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Server.Connections;

/// <summary>
/// The chat port's read loop: frames out of the pipe, each dispatched in turn; one <c>AdvanceTo</c> per read.
/// Nothing a client sends can throw out of here.
/// </summary>
public sealed class ChatConnectionHandler(
    Dispatcher dispatcher,
    Logins logins,
    ConnectionDrain drain,
    ChatMetrics metrics,
    IOptions<ChatServerOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ChatConnectionHandler> log) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var settings = options.Value;
        if (!drain.TryEnter(connection))
        {
            await connection.Transport.Output.WriteAsync(Frames.Error(ErrorCode.Unavailable, "this replica is shutting down: connect again", null));
            return;
        }

        var session = new ChatSession(connection, settings.OutboundQueueFrames, metrics);
        using var scope = log.BeginScope(new ConnectionLogScope(session, settings.ReplicaId));
        metrics.ConnectionOpened();
        // Not ConnectionClosed: Kestrel fires it on the client's FIN, and a read with a cancelled token throws
        // even when the client's last frames are waiting in the pipe (a client that sends, then half-closes,
        // would get no answer). Reads end when the transport completes; handlers stop only with the server.
        var ct = lifetime.ApplicationStopping;
        ServerLog.ConnectionOpened(log, connection.ConnectionId, connection.RemoteEndPoint?.ToString());
        session.StartWriter();
        try
        {
            await ReadFramesAsync(connection, session, settings.MaxFrameBytes, ct);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException)
        {
            // The client went away or was aborted.
        }
        catch (Exception ex)
        {
            ServerLog.ConnectionFailed(log, ex, connection.ConnectionId);
        }
        finally
        {
            try
            {
                await logins.EndAsync(session);
            }
            catch (Exception ex)
            {
                ServerLog.ConnectionFailed(log, ex, connection.ConnectionId);
            }

            await session.CompleteWriterAsync();
            drain.Exit(connection);
            metrics.ConnectionClosed();
            ServerLog.ConnectionClosed(log, connection.ConnectionId);
        }
    }

    private async Task ReadFramesAsync(ConnectionContext connection, ChatSession session, int maxFrameBytes, CancellationToken ct)
    {
        var input = connection.Transport.Input;
        var idleTimeout = options.Value.IdleTimeout;
        using var idle = new CancellationTokenSource(idleTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException) when (idle.IsCancellationRequested)
            {
                ServerLog.IdleTimeout(log, connection.ConnectionId, idleTimeout);
                return;
            }

            var buffer = result.Buffer;
            try
            {
                while (true)
                {
                    var status = FrameReader.TryReadFrame(ref buffer, maxFrameBytes, out var frame);
                    if (status == FrameStatus.Incomplete)
                    {
                        break;
                    }

                    if (status == FrameStatus.TooLarge)
                    {
                        ServerLog.FrameTooLarge(log, connection.ConnectionId, maxFrameBytes);
                        metrics.Error(ErrorCode.FrameTooLarge);
                        session.Send(Frames.Error(ErrorCode.FrameTooLarge, $"frame larger than {maxFrameBytes} bytes", null));
                        return;
                    }

                    await dispatcher.DispatchAsync(session, frame, ct);
                    idle.CancelAfter(idleTimeout);
                    if (session.Closing)
                    {
                        return;
                    }
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        ServerLog.TruncatedFrame(log, connection.ConnectionId, buffer.Length);
                        session.Send(Frames.Error(ErrorCode.BadRequest, "the connection ended inside a frame: frames end with \\n or \\0", null));
                    }

                    return;
                }

                if (result.IsCanceled)
                {
                    return;
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }
}
