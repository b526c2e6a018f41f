using System.Buffers;
using System.Collections.Frozen;
using Chat.Protocol;
using Chat.Server.Sessions;
using Chat.Server.Telemetry;
using Chat.Server.Transport;
using Microsoft.Extensions.Options;

namespace Chat.Server.Handlers;

/// <summary>
/// Reads each frame into a typed request, hands it to the handler keyed by its msgid (in a DI scope of its own, unless
/// the handler is a singleton: no scope is made for a chat send), and
/// turns what the handler returns — or what went wrong — into the reply frame. The one place that answers requests,
/// and the one owner of the order a connection's sends complete in (<see cref="RequestContext.Answered"/>).
/// </summary>
public sealed class Dispatcher(
    IServiceProvider services,
    IServiceScopeFactory scopes,
    SingletonHandlers singletons,
    LoginLifecycle logins,
    ChatMetrics metrics,
    IOptions<ConnectionOptions> options,
    ILogger<Dispatcher> log) : IConnectionApplication
{
    private static readonly Reply NotDone = Reply.Fail(ErrorCode.Unavailable, "the server could not complete the request: try again");

    /// <summary>The singleton handlers, resolved at the first frame (not at construction: their dependencies may not be ready then).</summary>
    private readonly Lazy<FrozenDictionary<MsgId, IRequestHandler>> _singletons = new(() =>
        singletons.MsgIds.ToFrozenDictionary(id => id, id => services.GetRequiredKeyedService<IRequestHandler>(id)));

    public IConnectionState Open(ChatConnection connection) =>
        new DispatchedConnection(new RequestContext(connection, options.Value.MaxInFlightPerConnection), this);

    public async ValueTask DispatchAsync(RequestContext context, ReadOnlySequence<byte> frame, CancellationToken ct)
    {
        var connection = context.Connection;
        if (!RequestReader.TryParse(frame, out var request, out var error))
        {
            metrics.FrameReceived(error.MsgId);
            metrics.Error(error.Code);
            connection.Send(ServerFrames.Reply(error));
            return;
        }

        metrics.FrameReceived((int)request.MsgId);
        if (context.User is null && request.MsgId is not (MsgId.Login or MsgId.Reg or MsgId.Ping))
        {
            Answer(context, request, Reply.Fail(ErrorCode.NotLoggedIn, "log in first"));
            return;
        }

        if (!logins.Holds(context))
        {
            return; // the replica's claim on the user lapsed: the session is closing, its request is not served
        }

        if (request is InvalidRequest invalid)
        {
            Answer(context, request, Reply.Fail(invalid.Code, invalid.Problem));
            return;
        }

        AsyncServiceScope? scope = null;
        if (!_singletons.Value.TryGetValue(request.MsgId, out var handler))
        {
            var scoped = scopes.CreateAsyncScope();
            scope = scoped;
            handler = scoped.ServiceProvider.GetKeyedService<IRequestHandler>(request.MsgId);
        }

        if (handler is null)
        {
            await EndScopeAsync(scope);
            Answer(context, request, Reply.Fail(ErrorCode.UnknownMsgId, $"msgid {(int)request.MsgId} is not a request"));
            return;
        }

        if (handler.Pipelined)
        {
            // Not read further while the connection has its fill of sends waiting to be stored.
            await context.SendSlots.WaitAsync(ct);
        }
        else
        {
            await context.Answered;
        }

        var outcome = (Outcome)NotDone;
        try
        {
            outcome = await RunAsync(handler, request, context, ct);
        }
        finally
        {
            if (outcome.Send is null)
            {
                await EndAsync(handler, context, scope);
            }
        }

        if (outcome.Send is { } send)
        {
            context.Answered = AnswerInOrderAsync(context, request, send, context.Answered, handler, scope);
        }
        else
        {
            Answer(context, request, outcome.Reply!);
        }
    }

    /// <summary>The connection ended: its sends are answered, then the user is logged out.</summary>
    public async ValueTask CloseAsync(RequestContext context)
    {
        await context.Answered;
        await logins.EndAsync(context);
    }

    private async Task<Outcome> RunAsync(IRequestHandler handler, Request request, RequestContext context, CancellationToken ct)
    {
        try
        {
            return await handler.HandleAsync(request, context, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            ServerLog.RequestFailed(log, ex, (int)request.MsgId, context.Connection.ConnectionId);
            return NotDone;
        }
    }

    /// <summary>
    /// The one chain that orders a connection's sends: each is finished (stored, routed) and answered after the one
    /// before it, so recipients and the sender get them in the order they were sent. The store works on them all at once.
    /// </summary>
    private async Task AnswerInOrderAsync(RequestContext context, Request request, SendUnderWay send, Task previous, IRequestHandler handler, AsyncServiceScope? scope)
    {
        Reply reply;
        try
        {
            await previous;
            reply = await send.FinishAsync();
        }
        catch (Exception ex)
        {
            ServerLog.RequestFailed(log, ex, (int)request.MsgId, context.Connection.ConnectionId);
            reply = NotDone;
        }
        finally
        {
            await EndAsync(handler, context, scope);
        }

        Answer(context, request, reply);
    }

    private static ValueTask EndAsync(IRequestHandler handler, RequestContext context, AsyncServiceScope? scope)
    {
        if (handler.Pipelined)
        {
            context.SendSlots.Release();
        }

        return EndScopeAsync(scope);
    }

    private static ValueTask EndScopeAsync(AsyncServiceScope? scope) => scope is { } s ? s.DisposeAsync() : ValueTask.CompletedTask;

    private void Answer(RequestContext context, Request request, Reply reply)
    {
        if (reply is Failed failed)
        {
            metrics.Error(failed.Code);
        }

        if (ServerFrames.Reply(request.MsgId, request.Cid, reply) is { } frame)
        {
            context.Connection.Send(frame);
        }
    }
}

/// <summary>What the transport holds for one connection: its frames go to the dispatcher with the connection's context.</summary>
internal sealed class DispatchedConnection(RequestContext context, Dispatcher dispatcher) : IConnectionState
{
    public int? UserId => context.UserId;

    public ValueTask OnFrameAsync(ReadOnlySequence<byte> frame, CancellationToken ct) => dispatcher.DispatchAsync(context, frame, ct);

    public ValueTask DisposeAsync() => dispatcher.CloseAsync(context);
}
