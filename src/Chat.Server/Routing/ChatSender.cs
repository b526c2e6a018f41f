using System.Diagnostics;
using System.Globalization;
using Chat.Domain;
using Chat.Domain.Protocol;
using Chat.Server.Connections;
using Chat.Server.Handlers;
using Chat.Server.Hosting;
using Chat.Server.Protocol;
using Chat.Server.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Server.Routing;

/// <summary>
/// Store first, then route. The append starts at once (so it joins the writer's next batch) and the read loop
/// goes on; completion is chained per login so a sender's ACKs and deliveries leave in the order it sent.
/// When traced, a send is a span named after its msgid, with the store append and the routing as its children.
/// </summary>
public sealed class ChatSender(
    IMessageWriter writer,
    Router router,
    TimeProvider time,
    ChatMetrics metrics,
    IOptions<ChatServerOptions> options,
    ILogger<ChatSender> log)
{
    public void Send(ChatSession session, UserSession user, Request request, long conversationId, int targetId)
    {
        var caller = Activity.Current;
        var activity = ChatTelemetry.Source.StartActivity(request.MsgId == MsgId.GroupChat ? "GROUP_CHAT" : "ONE_CHAT", ActivityKind.Server);
        Activity? storing = null;
        if (activity is not null)
        {
            activity.SetTag(ChatTelemetry.ReplicaTag, options.Value.ReplicaId)
                .SetTag(ChatTelemetry.UserTag, user.Id)
                .SetTag(ChatTelemetry.TargetTag, targetId)
                .SetTag(ChatTelemetry.ConversationTag, conversationId);
            storing = ChatTelemetry.Source.StartActivity(ChatTelemetry.StoreAppend, ActivityKind.Client);
        }

        var now = time.GetUtcNow();
        var message = new ChatMessage(
            conversationId,
            user.Id,
            user.Name,
            targetId,
            request.Msg!,
            request.Time ?? now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            now.ToUnixTimeMilliseconds(),
            request.Cid);
        var append = writer.AppendAsync(message, CancellationToken.None).AsTask();
        user.LastSend = CompleteAsync(session, user, request, append, user.LastSend, activity, storing);
        if (activity is not null)
        {
            Activity.Current = caller;
        }
    }

    private async Task CompleteAsync(
        ChatSession session, UserSession user, Request request, Task<AppendResult> append, Task previous, Activity? activity, Activity? storing)
    {
        using var traced = activity;
        await previous;
        AppendResult result;
        try
        {
            result = await append;
            storing?.Dispose();
        }
        catch (ArgumentException ex)
        {
            // Refused by the writer before any database saw it (e.g. a cid ending in a space): the request's fault.
            storing?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name).Dispose();
            session.Fail(request, ErrorCode.BadRequest, ex.Message);
            return;
        }
        catch (Exception ex)
        {
            storing?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name).Dispose();
            activity?.SetStatus(ActivityStatusCode.Error, "not stored");
            ServerLog.AppendFailed(log, ex, user.Id);
            session.Fail(request, ErrorCode.Unavailable, "message not stored: try again");
            return;
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

        var stored = result.Stored;
        user.Sent(stored.Message.ConversationId, stored.Seq);
        if (request.Cid is { } cid)
        {
            session.Send(Frames.SentAck(cid, stored));
        }

        // A repeated cid is routed again: recipients that have it drop it by seq, one that missed it gets it now.
        router.Route(new Delivery(stored.Message.ConversationId, stored.Seq, user.Id, stored.Message.TargetId, Frames.Chat(stored)));
    }
}
