using Chat.Protocol;
using Chat.Server.Sessions;

namespace Chat.Server.Handlers;

/// <summary>
/// Handles one request type; registered in DI keyed by its <see cref="MsgId"/> and resolved per frame in a scope of
/// its own. Derive from <see cref="RequestHandler{TRequest}"/>, <see cref="UserRequestHandler{TRequest}"/> or, for a
/// chat send, <see cref="SendHandler{TRequest}"/>.
/// </summary>
public interface IRequestHandler
{
    /// <summary>
    /// True for chat sends: the handler returns a <see cref="SendUnderWay"/> once the send is stamped and handed to the
    /// store, so a connection's sends overlap (up to its in-flight limit) while the dispatcher finishes and answers them
    /// in order. Any other request waits until those before it are answered.
    /// </summary>
    bool Pipelined { get; }

    ValueTask<Outcome> HandleAsync(Request request, RequestContext context, CancellationToken ct);
}

/// <summary>What a handler gives back: the reply now, or a send under way whose reply comes once it is stored.</summary>
public readonly record struct Outcome
{
    private Outcome(Reply? reply, SendUnderWay? send) => (Reply, Send) = (reply, send);

    /// <summary>The reply to answer with now; null when <see cref="Send"/> is under way.</summary>
    public Reply? Reply { get; }

    /// <summary>A send the dispatcher finishes and answers in order with the connection's others.</summary>
    public SendUnderWay? Send { get; }

    public static implicit operator Outcome(Reply reply) => new(reply, null);

    public static implicit operator Outcome(SendUnderWay send) => new(null, send);

    /// <summary>A handler's reply as an outcome, without a state machine when it is ready already.</summary>
    public static ValueTask<Outcome> Of(ValueTask<Reply> reply) =>
        reply.IsCompletedSuccessfully ? ValueTask.FromResult<Outcome>(reply.Result) : AwaitAsync(reply);

    private static async ValueTask<Outcome> AwaitAsync(ValueTask<Reply> reply) => await reply;
}

/// <summary>A request served before login too (LOGIN, REG, PING, LOGINOUT).</summary>
public abstract class RequestHandler<TRequest> : IRequestHandler where TRequest : Request
{
    public bool Pipelined => false;

    public ValueTask<Outcome> HandleAsync(Request request, RequestContext context, CancellationToken ct) =>
        Outcome.Of(HandleAsync((TRequest)request, context, ct));

    protected abstract ValueTask<Reply> HandleAsync(TRequest request, RequestContext context, CancellationToken ct);
}

/// <summary>A request of a logged-in user: the dispatcher has answered errno 3 to anyone else.</summary>
public abstract class UserRequestHandler<TRequest> : IRequestHandler where TRequest : Request
{
    public bool Pipelined => false;

    public ValueTask<Outcome> HandleAsync(Request request, RequestContext context, CancellationToken ct) =>
        Outcome.Of(HandleAsync((TRequest)request, context.User!, ct));

    protected abstract ValueTask<Reply> HandleAsync(TRequest request, UserSession user, CancellationToken ct);
}

/// <summary>
/// A chat send of a logged-in user (pipelined): checked, then started with <see cref="MessageSender.Start"/>; or refused
/// with a reply.
/// </summary>
public abstract class SendHandler<TRequest> : IRequestHandler where TRequest : Request
{
    public bool Pipelined => true;

    public ValueTask<Outcome> HandleAsync(Request request, RequestContext context, CancellationToken ct) =>
        HandleAsync((TRequest)request, context.User!, ct);

    protected abstract ValueTask<Outcome> HandleAsync(TRequest request, UserSession user, CancellationToken ct);
}
