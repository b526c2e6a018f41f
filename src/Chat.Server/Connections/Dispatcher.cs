using System.Buffers;
using Chat.Domain.Protocol;
using Chat.Server.Handlers;
using Chat.Server.Protocol;
using Chat.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Chat.Server.Connections;

/// <summary>Parses a frame and hands it to the handler keyed by its msgid, in a DI scope of its own.</summary>
public sealed class Dispatcher(IServiceScopeFactory scopes, ChatMetrics metrics, ILogger<Dispatcher> log)
{
    public async ValueTask DispatchAsync(ChatSession session, ReadOnlySequence<byte> frame, CancellationToken ct)
    {
        if (!RequestParser.TryParse(frame, out var request, out var error))
        {
            metrics.FrameReceived(error.MsgId);
            session.Fail(error);
            return;
        }

        metrics.FrameReceived((int)request.MsgId);

        if (session.User is null && request.MsgId is not (MsgId.Login or MsgId.Reg or MsgId.Ping))
        {
            session.Fail(request, ErrorCode.NotLoggedIn, "log in first");
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        if (scope.ServiceProvider.GetKeyedService<IRequestHandler>(request.MsgId) is not { } handler)
        {
            session.Fail(request, ErrorCode.UnknownMsgId, $"msgid {(int)request.MsgId} is not a request");
            return;
        }

        try
        {
            await handler.HandleAsync(session, request, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            ServerLog.RequestFailed(log, ex, (int)request.MsgId, session.ConnectionId);
            session.Fail(request, ErrorCode.Unavailable, "the server could not complete the request: try again");
        }
    }
}
