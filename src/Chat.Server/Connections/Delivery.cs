namespace Chat.Server.Connections;

/// <summary>A stored chat message on its way to recipients: the frame is built once and shared by all of them.</summary>
/// <param name="TargetId">The recipient (one-to-one) or the group.</param>
public sealed record Delivery(long ConversationId, long Seq, int SenderId, int TargetId, ReadOnlyMemory<byte> Frame)
{
    public bool IsGroup => Domain.ConversationId.IsGroup(ConversationId);
}

/// <summary>One frame in a connection's outgoing queue, and what its being written means.</summary>
/// <param name="Owner">The login the frame belongs to, told when it has been written.</param>
/// <param name="Delivered">Messages the frame carries: their cursors may move once it is written.</param>
/// <param name="Written">Completed once everything queued before and with it has been written.</param>
public readonly record struct Outbound(
    ReadOnlyMemory<byte> Frame,
    UserSession? Owner = null,
    Delivery? Delivered = null,
    IReadOnlyList<(long ConversationId, long Seq)>? DeliveredBatch = null,
    TaskCompletionSource? Written = null);
