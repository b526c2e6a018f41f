using System.Globalization;
using Chat.Domain;
using Chat.Domain.Protocol;
using Chat.Server.Connections;
using Chat.Server.Handlers;
using Chat.Server.Protocol;
using Microsoft.Extensions.Logging;

namespace Chat.Server.Routing;

/// <summary>
/// Store first, then route. The append starts at once (so it joins the writer's next batch) and the read loop
/// goes on; completion is chained per login so a sender's ACKs and deliveries leave in the order it sent.
/// </summary>
public sealed class ChatSender(IMessageWriter writer, Router router, TimeProvider time, ILogger<ChatSender> log)
{
    public void Send(ChatSession session, UserSession user, Request request, long conversationId, int targetId)
    {
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
        user.LastSend = CompleteAsync(session, user, request, append, user.LastSend);
    }

    private async Task CompleteAsync(ChatSession session, UserSession user, Request request, Task<AppendResult> append, Task previous)
    {
        await previous;
        AppendResult result;
        try
        {
            result = await append;
        }
        catch (Exception ex)
        {
            ServerLog.AppendFailed(log, ex, user.Id);
            session.Fail(request, ErrorCode.Unavailable, "message not stored: try again");
            return;
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
