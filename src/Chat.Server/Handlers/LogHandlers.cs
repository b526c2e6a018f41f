using System.ComponentModel.DataAnnotations;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Sessions;
using Microsoft.Extensions.Options;

namespace Chat.Server.Handlers;

/// <summary>Edits and recalls (section <c>Chat:Messages</c>).</summary>
public sealed class MessageLogOptions
{
    public const string Section = "Chat:Messages";

    /// <summary>How long after sending its author may edit a message.</summary>
    public TimeSpan EditWindow { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How long after sending its author may recall a message (a group's creator may recall any, any time).</summary>
    public TimeSpan RecallWindow { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Distinct emoji one user may have on one message.</summary>
    [Range(1, 1_000)]
    public int MaxEmojiPerUser { get; set; } = 20;
}

/// <summary>
/// The conversation is a log (issue 21): what EDIT, RECALL, REACT and a reply may name. Each is checked against the
/// message as the user may see it (errno 6 when there is none, or it lies before the user joined the group), then
/// stored as an entry of the log through <see cref="MessageSender"/> and routed like a message.
/// </summary>
public sealed class MessageLog(IChatStore store, KnownUsers knownUsers, TimeProvider time, IOptions<MessageLogOptions> options)
{
    public MessageLogOptions Options => options.Value;

    /// <summary>The conversation a request names and the id its entries carry (the peer, or the group); or the refusal.</summary>
    private async ValueTask<(long Conversation, int Target, Reply? Refusal)> ResolveAsync(UserSession user, int? peer, int? groupId, CancellationToken ct)
    {
        var (conversation, refusal) = await Conversation.ResolveAsync(knownUsers, user, peer, groupId, ct);
        return (conversation, groupId ?? peer ?? 0, refusal);
    }

    /// <summary>
    /// The message an event names — its conversation, the id its entries carry (the peer, or the group) and the message
    /// at <paramref name="seq"/> as the user may see it — or the refusal (no such user, not a member, errno 6).
    /// </summary>
    public async ValueTask<(NamedMessage? Named, Reply? Refusal)> FindAsync(UserSession user, int? peer, int? groupId, long seq, CancellationToken ct)
    {
        var (conversation, target, refusal) = await ResolveAsync(user, peer, groupId, ct);
        if (refusal is not null)
        {
            return (null, refusal);
        }

        return await store.MessageAsync(user.Id, conversation, seq, ct) is { } message
            ? (new NamedMessage(conversation, target, message), null)
            : (null, Reply.Fail(ErrorCode.NotFound, $"no message {seq} in this conversation (or not yours to see)"));
    }

    public bool Within(MessageState message, TimeSpan window) =>
        time.GetUtcNow().ToUnixTimeMilliseconds() - message.Ts <= (long)window.TotalMilliseconds;

    public async ValueTask<bool> IsCreatorAsync(UserSession user, int groupId, CancellationToken ct) =>
        await store.GroupAsync(user.Id, groupId, ct) is { } group
        && group.Members.Any(m => m.Id == user.Id && m.Role == GroupRole.Creator);

    public static readonly Reply Recalled = Reply.Fail(ErrorCode.NotAllowed, "the message was recalled");
}

/// <summary>EDIT (24): the author replaces a message's text within <see cref="MessageLogOptions.EditWindow"/>.</summary>
public sealed class EditHandler(MessageLog log, MessageSender sender) : UserRequestHandler<EditRequest>
{
    protected override async ValueTask<Reply> HandleAsync(EditRequest request, UserSession user, CancellationToken ct)
    {
        if (sender.Problem(request, request.Msg, null) is { } problem)
        {
            return Reply.Fail(ErrorCode.BadRequest, problem);
        }

        var (named, refusal) = await log.FindAsync(user, request.Peer, request.GroupId, request.Seq, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var (conversation, target, message) = named!;

        if (message.SenderId != user.Id)
        {
            return Reply.Fail(ErrorCode.NotAllowed, "only its author may edit a message");
        }

        if (message.Recalled)
        {
            return MessageLog.Recalled;
        }

        if (!log.Within(message, log.Options.EditWindow))
        {
            return Reply.Fail(ErrorCode.NotAllowed, "the message is too old to edit");
        }

        return await sender.Start(user, request, conversation, target, request.Msg, null, new LogEntry(EntryKind.Edit, request.Seq))
            .FinishAsync(); // not pipelined: the connection's sends before it are answered already
    }
}

/// <summary>RECALL (25): the author within <see cref="MessageLogOptions.RecallWindow"/>, or a group's creator at any time, takes a message back.</summary>
public sealed class RecallHandler(MessageLog log, MessageSender sender) : UserRequestHandler<RecallRequest>
{
    protected override async ValueTask<Reply> HandleAsync(RecallRequest request, UserSession user, CancellationToken ct)
    {
        if (sender.Problem(request, "", null) is { } problem)
        {
            return Reply.Fail(ErrorCode.BadRequest, problem);
        }

        var (named, refusal) = await log.FindAsync(user, request.Peer, request.GroupId, request.Seq, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var (conversation, target, message) = named!;

        if (message.Recalled)
        {
            return MessageLog.Recalled;
        }

        var allowed = (message.SenderId == user.Id && log.Within(message, log.Options.RecallWindow))
            || (request.GroupId is { } group && await log.IsCreatorAsync(user, group, ct));
        if (!allowed)
        {
            return Reply.Fail(ErrorCode.NotAllowed, message.SenderId == user.Id
                ? "the message is too old to recall"
                : "only its author (or the group's creator) may recall a message");
        }

        return await sender.Start(user, request, conversation, target, "", null, new LogEntry(EntryKind.Recall, request.Seq))
            .FinishAsync(); // not pipelined: the connection's sends before it are answered already
    }
}

/// <summary>REACT (26): one reaction per user, emoji and message; at most <see cref="MessageLogOptions.MaxEmojiPerUser"/> distinct emoji.</summary>
public sealed class ReactHandler(MessageLog log, MessageSender sender) : UserRequestHandler<ReactRequest>
{
    protected override async ValueTask<Reply> HandleAsync(ReactRequest request, UserSession user, CancellationToken ct)
    {
        if (sender.Problem(request, request.Emoji, null) is { } problem)
        {
            return Reply.Fail(ErrorCode.BadRequest, problem);
        }

        var (named, refusal) = await log.FindAsync(user, request.Peer, request.GroupId, request.Seq, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var (conversation, target, message) = named!;

        if (message.Recalled)
        {
            return MessageLog.Recalled;
        }

        var max = log.Options.MaxEmojiPerUser;
        if (request.On && !message.MyEmoji.Contains(request.Emoji, StringComparer.Ordinal) && message.MyEmoji.Count >= max)
        {
            return Reply.Fail(ErrorCode.BadRequest, $"at most {max} different emoji per message");
        }

        var kind = request.On ? EntryKind.React : EntryKind.Unreact;
        return await sender.Start(user, request, conversation, target, request.Emoji, null, new LogEntry(kind, request.Seq))
            .FinishAsync(); // not pipelined: the connection's sends before it are answered already
    }
}

/// <summary>
/// What a ONE_CHAT or GROUP_CHAT with <c>reply</c> quotes, checked against what the sender may see. A singleton (the chat
/// handlers are): the store is asked in a scope of its own, only when a reply is sent.
/// </summary>
public sealed class ReplyQuotes(IServiceScopeFactory scopes)
{
    public async ValueTask<(LogEntry? Entry, Reply? Refusal)> ResolveAsync(UserSession user, long conversation, long? reply, CancellationToken ct)
    {
        if (reply is not { } seq)
        {
            return (null, null);
        }

        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IChatStore>();
        if (await store.MessageAsync(user.Id, conversation, seq, ct) is not { } quoted)
        {
            return (null, Reply.Fail(ErrorCode.NotFound, $"no message {seq} in this conversation (or not yours to see) to reply to"));
        }

        var quote = ReplyQuote.Of(seq, quoted.SenderId, quoted.SenderName, quoted.Body, quoted.Recalled);
        return (new LogEntry(EntryKind.Message, null, seq, quote), null);
    }
}

/// <summary>A message an event names: its conversation, the id the event's entries carry (the peer, or the group), and the message.</summary>
public sealed record NamedMessage(long Conversation, int Target, MessageState Message);

/// <summary>What an entry is beyond a plain message: an event naming <paramref name="Ref"/>, or a reply quoting <paramref name="Quote"/>.</summary>
public sealed record LogEntry(EntryKind Kind, long? Ref, long? ReplySeq = null, ReplyQuote? Quote = null);
