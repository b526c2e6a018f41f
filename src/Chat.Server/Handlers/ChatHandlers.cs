using System.Diagnostics;
using System.Globalization;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Files;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Telemetry;
using Microsoft.Extensions.Options;

namespace Chat.Server.Handlers;

public sealed class OneChatHandler(KnownUsers knownUsers, MessageSender sender, ReplyQuotes replies, FileService files, BlockList blocks) : SendHandler<OneChatRequest>
{
    protected override async ValueTask<Outcome> HandleAsync(OneChatRequest request, UserSession user, CancellationToken ct)
    {
        if (sender.Problem(request, request.Msg, request.Time) is { } problem)
        {
            return Reply.Fail(ErrorCode.BadRequest, problem);
        }

        if (!await knownUsers.ExistsAsync(request.ToId, ct))
        {
            return Reply.Fail(ErrorCode.NotFound, $"no user {request.ToId}");
        }

        if (await blocks.HasBlockedAsync(request.ToId, user.Id, ct))
        {
            return Reply.Fail(ErrorCode.NotAllowed, $"user {request.ToId} does not take your messages");
        }

        FileRef? file = null;
        if (request.File is { } fileId && (file = (await files.OwnedAsync(user.Id, fileId, ct))?.Ref) is null)
        {
            return Reply.Fail(ErrorCode.NotFound, "no such file of yours");
        }

        var conversation = ConversationId.Direct(user.Id, request.ToId);
        var (reply, refusal) = await replies.ResolveAsync(user, conversation, request.Reply, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        return sender.Start(user, request, conversation, request.ToId, request.Msg, request.Time, reply, file);
    }
}

public sealed class GroupChatHandler(MessageSender sender, ReplyQuotes replies, FileService files) : SendHandler<GroupChatRequest>
{
    protected override async ValueTask<Outcome> HandleAsync(GroupChatRequest request, UserSession user, CancellationToken ct)
    {
        if (sender.Problem(request, request.Msg, request.Time) is { } problem)
        {
            return Reply.Fail(ErrorCode.BadRequest, problem);
        }

        if (!user.IsMember(request.GroupId))
        {
            return Conversation.NotMember(request.GroupId);
        }

        FileRef? file = null;
        if (request.File is { } fileId && (file = (await files.OwnedAsync(user.Id, fileId, ct))?.Ref) is null)
        {
            return Reply.Fail(ErrorCode.NotFound, "no such file of yours");
        }

        var conversation = ConversationId.Group(request.GroupId);
        var (reply, refusal) = await replies.ResolveAsync(user, conversation, request.Reply, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        return sender.Start(user, request, conversation, request.GroupId, request.Msg, request.Time, reply, file);
    }
}

/// <summary>
/// Store first, then route. <see cref="Start"/> stamps the message and hands it to the writer at once (so it joins the
/// writer's next batch); <see cref="SendUnderWay.FinishAsync"/> waits for the store, routes it and gives the sender's
/// reply. It keeps no order of its own: the dispatcher finishes a connection's sends one after another, in the order they
/// were sent (<see cref="RequestContext.Answered"/>), so they are routed and answered in that order. When traced, a send
/// is a span named after its msgid, with the store append and the routing as its children.
/// </summary>
public sealed class MessageSender(
    IMessageWriter writer,
    ChatHub hub,
    TimeProvider time,
    ChatMetrics metrics,
    IOptions<MessageOptions> messages,
    IOptions<ChatServerOptions> server,
    FileService files,
    ILogger<MessageSender> log)
{
    private static readonly Reply NotStored = Reply.Fail(ErrorCode.Unavailable, "message not stored: try again");

    /// <summary>
    /// What is wrong with what a send would store of the client's — its text, free-text time and cid — or null: the one
    /// check of them, made first (errno 4). The writer refuses nothing a checked send carries, so whatever fails later is
    /// the server's (errno 10), never the client's mistake.
    /// </summary>
    public string? Problem(Request request, string text, string? clientTime)
    {
        var maxChars = messages.Value.MaxMessageChars;
        return text.Length > maxChars ? $"msg must be at most {maxChars} characters" : Validation.ChatMessage(text, clientTime, request.Cid?.Text);
    }

    /// <summary>Stamps the message and hands it to the store; the send is finished (routed, answered) by the dispatcher, in order.</summary>
    /// <param name="entry">An event of the log, or a reply (null: a plain message).</param>
    /// <param name="file">The file the message carries (the sender's own, checked), or null.</param>
    public SendUnderWay Start(UserSession user, Request request, long conversationId, int targetId, string text, string? clientTime, LogEntry? entry = null, FileRef? file = null) =>
        StartAs(user.Id, user.Name, user, request.MsgId, request.Cid?.Text, conversationId, targetId, text, clientTime, entry, file);

    /// <summary>
    /// An operator's recall (<c>POST /admin/recall</c>): the RECALL entry a user's would be, in the name of the message's
    /// author (the log has no operator), sent from none of the author's sessions, so all of them get it too.
    /// </summary>
    public SendUnderWay StartRecall(MessageState message, long conversationId, int targetId) =>
        StartAs(message.SenderId, message.SenderName, session: null, MsgId.Recall, cid: null, conversationId, targetId, "", clientTime: null, new LogEntry(EntryKind.Recall, message.Seq), file: null);

    /// <param name="session">The author's session that sent it; null when none did (an operator's recall).</param>
    private SendUnderWay StartAs(
        int authorId, string authorName, UserSession? session, MsgId msgId, string? cid, long conversationId, int targetId, string text, string? clientTime, LogEntry? entry, FileRef? file)
    {
        var caller = Activity.Current;
        var activity = ChatTelemetry.Source.StartActivity(SpanName(msgId), ActivityKind.Server);
        Activity? storing = null;
        if (activity is not null)
        {
            activity.SetTag(ChatTelemetry.ReplicaTag, server.Value.ReplicaId)
                .SetTag(ChatTelemetry.UserTag, authorId)
                .SetTag(ChatTelemetry.TargetTag, targetId)
                .SetTag(ChatTelemetry.ConversationTag, conversationId);
            storing = ChatTelemetry.Source.StartActivity(ChatTelemetry.StoreAppend, ActivityKind.Client);
        }

        var now = time.GetUtcNow();
        var message = new ChatMessage(
            conversationId,
            authorId,
            authorName,
            targetId,
            text,
            clientTime ?? now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            now.ToUnixTimeMilliseconds(),
            cid)
        {
            Kind = entry?.Kind ?? EntryKind.Message,
            Ref = entry?.Ref,
            ReplySeq = entry?.ReplySeq,
            File = file,
        };
        var append = writer.AppendAsync(message, CancellationToken.None).AsTask();
        if (activity is not null)
        {
            Activity.Current = caller;
        }

        return new SendUnderWay(this, session, message, append, activity, storing, entry?.Quote);
    }

    private static string SpanName(MsgId msgId) => msgId switch
    {
        MsgId.GroupChat => "GROUP_CHAT",
        MsgId.Edit => "EDIT",
        MsgId.Recall => "RECALL",
        MsgId.React => "REACT",
        _ => "ONE_CHAT",
    };

    internal async Task<Reply> FinishAsync(UserSession? session, ChatMessage message, Task<AppendResult> append, Activity? activity, Activity? storing, ReplyQuote? quote)
    {
        using var traced = activity;
        AppendResult result;
        try
        {
            result = await append;
            storing?.Dispose();
        }
        catch (Exception ex)
        {
            storing?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name).Dispose();
            activity?.SetStatus(ActivityStatusCode.Error, "not stored");
            ServerLog.AppendFailed(log, ex, message.SenderId);
            return NotStored;
        }

        if (activity is not null)
        {
            Activity.Current = activity;
            activity.SetTag(ChatTelemetry.SeqTag, result.Stored.Seq);
        }

        if (!result.Duplicate)
        {
            metrics.MessageStored();
        }

        var stored = result.Stored with { Reply = quote };
        if (message.File is { } file)
        {
            // The link makes the conversation's parties readers of the file, before anyone is told of it. A resent
            // message (its cid repeated) comes back from the store without its file: it carries the one sent now.
            stored = stored with { Message = stored.Message with { File = file } };
            try
            {
                await files.LinkAsync(stored.Message.ConversationId, stored.Seq, file.Id, CancellationToken.None);
            }
            catch (Exception ex)
            {
                FileLog.LinkFailed(log, ex, file.Id, stored.Message.ConversationId, stored.Seq);
            }
        }

        if (message.Kind == EntryKind.Recall && message.Ref is { } recalled && !result.Duplicate)
        {
            // A recall erases the message's file too, once no other message holds it.
            try
            {
                await files.ReleaseAsync(stored.Message.ConversationId, recalled, CancellationToken.None);
            }
            catch (Exception ex)
            {
                FileLog.ReleaseFailed(log, ex, stored.Message.ConversationId, recalled);
            }
        }

        session?.Sent(stored.Message.ConversationId, stored.Seq);
        // A repeated cid is routed again: recipients that have it drop it by seq, one that missed it gets it now. Sent from
        // none of the author's sessions (session 0), all of them get it too.
        hub.Route(Delivery.Sent(stored, session?.SessionId ?? 0));

        return new MessageStored(stored.Seq, stored.Message.Ts);
    }
}

/// <summary>
/// A chat send stamped and handed to the store (<see cref="MessageSender.Start"/>, or an operator's recall:
/// <see cref="MessageSender.StartRecall"/>). <see cref="FinishAsync"/>, called once, after the connection's sends before
/// it are answered (a recall's caller has none), waits for the store, routes the message and gives the sender's reply.
/// </summary>
public sealed class SendUnderWay
{
    private readonly MessageSender _sender;
    private readonly UserSession? _session;
    private readonly ChatMessage _message;
    private readonly Task<AppendResult> _append;
    private readonly Activity? _activity;
    private readonly Activity? _storing;
    private readonly ReplyQuote? _quote;

    internal SendUnderWay(MessageSender sender, UserSession? session, ChatMessage message, Task<AppendResult> append, Activity? activity, Activity? storing, ReplyQuote? quote)
    {
        (_sender, _session, _message, _append) = (sender, session, message, append);
        (_activity, _storing, _quote) = (activity, storing, quote);
    }

    public Task<Reply> FinishAsync() => _sender.FinishAsync(_session, _message, _append, _activity, _storing, _quote);
}
