using System.IO.Pipelines;
using Chat.Protocol;
using Chat.Server.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Chat.Server.Transport;

/// <summary>
/// The chat port's read loop: frames out of the pipe, each handed to the application in turn; one <c>AdvanceTo</c>
/// per read. Nothing a client sends can throw out of here.
/// </summary>
public sealed class ChatConnectionHandler(
    IConnectionApplication application,
    ConnectionRegistry registry,
    ChatMetrics metrics,
    IOptions<ConnectionOptions> options,
    IOptions<ChatServerOptions> server,
    IHostApplicationLifetime lifetime,
    ILogger<ChatConnectionHandler> log) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var settings = options.Value;
        var chat = new ChatConnection(connection, settings, metrics);
        switch (registry.TryAdd(chat))
        {
            case ConnectionRegistry.Admission.Draining:
                await connection.Transport.Output.WriteAsync(ServerFrames.Error(ErrorCode.Unavailable, "this replica is shutting down: connect again", null));
                return;
            case ConnectionRegistry.Admission.Full:
                ServerLog.ServerFull(log, connection.RemoteEndPoint?.ToString(), settings.MaxConnections);
                await connection.Transport.Output.WriteAsync(ServerFrames.Error(ErrorCode.Unavailable, "server full: try again later", null));
                return;
            case ConnectionRegistry.Admission.AddressFull:
                ServerLog.AddressFull(log, chat.RemoteAddress?.ToString(), settings.MaxConnectionsPerAddress);
                await connection.Transport.Output.WriteAsync(ServerFrames.Error(
                    ErrorCode.TooManyAttempts, $"too many connections from your address (at most {settings.MaxConnectionsPerAddress}): close some first", null));
                return;
        }

        var state = application.Open(chat);
        using var scope = log.BeginScope(new ConnectionLogScope(chat, state, server.Value.ReplicaId));
        // Not ConnectionClosed: Kestrel fires it on the client's FIN, and a read with a cancelled token throws
        // even when the client's last frames are waiting in the pipe (a client that sends, then half-closes,
        // would get no answer). Reads end when the transport completes; handlers stop only with the server.
        var ct = lifetime.ApplicationStopping;
        ServerLog.ConnectionOpened(log, connection.ConnectionId, connection.RemoteEndPoint?.ToString());
        chat.StartWriter();
        try
        {
            await ReadFramesAsync(connection, chat, state, settings, ct);
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
                await state.DisposeAsync();
            }
            catch (Exception ex)
            {
                ServerLog.ConnectionFailed(log, ex, connection.ConnectionId);
            }

            await chat.CompleteWriterAsync();
            registry.Remove(chat);
            ServerLog.ConnectionClosed(log, connection.ConnectionId);
        }
    }

    private async Task ReadFramesAsync(ConnectionContext connection, ChatConnection chat, IConnectionState state, ConnectionOptions settings, CancellationToken ct)
    {
        var input = connection.Transport.Input;
        var maxFrameBytes = settings.MaxFrameBytes;
        using var idle = new CancellationTokenSource(settings.IdleTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException) when (idle.IsCancellationRequested)
            {
                ServerLog.IdleTimeout(log, connection.ConnectionId, settings.IdleTimeout);
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
                        chat.Send(ServerFrames.Error(ErrorCode.FrameTooLarge, $"frame larger than {maxFrameBytes} bytes", null));
                        return;
                    }

                    await state.OnFrameAsync(frame, ct);
                    idle.CancelAfter(settings.IdleTimeout);
                    if (chat.Closing)
                    {
                        return;
                    }
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        ServerLog.TruncatedFrame(log, connection.ConnectionId, buffer.Length);
                        chat.Send(ServerFrames.Error(ErrorCode.BadRequest, "the connection ended inside a frame: frames end with \\n or \\0", null));
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
