using Chat.Protocol;
using Chat.Server.Sessions;

namespace Chat.Server.Handlers;

/// <summary>
/// Handles one request type; registered in DI keyed by its <see cref="MsgId"/> and resolved per frame in a scope of
/// its own. Derive from <see cref="RequestHandler{TRequest}"/> or <see cref="UserRequestHandler{TRequest}"/>.
/// </summary>
public interface IRequestHandler
{
    /// <summary>
    /// True for chat sends: the handler returns <see cref="Pending"/> once the send is under way, so a connection's
    /// sends overlap (up to its in-flight limit) while their replies still leave in order. Any other request waits
    /// until those before it are answered.
    /// </summary>
    bool Pipelined { get; }

    ValueTask<Reply> HandleAsync(Request request, RequestContext context, CancellationToken ct);
}

/// <summary>A request served before login too (LOGIN, REG, PING, LOGINOUT).</summary>
public abstract class RequestHandler<TRequest> : IRequestHandler where TRequest : Request
{
    public virtual bool Pipelined => false;

    public ValueTask<Reply> HandleAsync(Request request, RequestContext context, CancellationToken ct) =>
        HandleAsync((TRequest)request, context, ct);

    protected abstract ValueTask<Reply> HandleAsync(TRequest request, RequestContext context, CancellationToken ct);
}

/// <summary>A request of a logged-in user: the dispatcher has answered errno 3 to anyone else.</summary>
public abstract class UserRequestHandler<TRequest> : IRequestHandler where TRequest : Request
{
    public virtual bool Pipelined => false;

    public ValueTask<Reply> HandleAsync(Request request, RequestContext context, CancellationToken ct) =>
        HandleAsync((TRequest)request, context.User!, ct);

    protected abstract ValueTask<Reply> HandleAsync(TRequest request, UserSession user, CancellationToken ct);
}

/// <summary>A pipelined request is under way (in order with the connection's others); its reply comes when this task completes.</summary>
public sealed record Pending(Task<Reply> Reply) : Reply;
