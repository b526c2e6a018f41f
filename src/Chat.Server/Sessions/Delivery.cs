using Chat.Domain;
using Chat.Protocol;

namespace Chat.Server.Sessions;

/// <summary>A stored chat message on its way to recipients: the frame is built once and shared by all of them.</summary>
/// <param name="TargetId">The recipient (one-to-one) or the group.</param>
public sealed record Delivery(long ConversationId, long Seq, int SenderId, int TargetId, ReadOnlyMemory<byte> Frame)
{
    public bool IsGroup => Domain.ConversationId.IsGroup(ConversationId);

    /// <summary>A stored message with its frame, as every recipient gets it.</summary>
    public static Delivery Of(StoredMessage stored)
    {
        var m = stored.Message;
        var frame = ServerFrames.Chat(new ChatPush(m.IsGroup, m.SenderId, m.SenderName, m.TargetId, m.Body, m.ClientTime, stored.Seq, m.Ts));
        return new Delivery(m.ConversationId, stored.Seq, m.SenderId, m.TargetId, frame);
    }
}
