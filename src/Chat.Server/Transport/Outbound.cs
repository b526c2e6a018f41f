namespace Chat.Server.Transport;

/// <summary>Told when a frame carrying stored messages has been written to the connection: their cursors may move.</summary>
public interface IDeliveryReceipt
{
    void Written(long conversationId, long seq);
}

/// <summary>The stored messages a frame carries: one (a chat frame) or many (LOGIN_ACK's offline messages).</summary>
public readonly record struct Delivered(long ConversationId, long Seq, IReadOnlyList<(long ConversationId, long Seq)>? Batch = null)
{
    public static Delivered Many(IReadOnlyList<(long ConversationId, long Seq)> batch) => new(0, 0, batch);
}

/// <summary>One frame in a connection's outgoing queue, and what its being written means.</summary>
/// <param name="Owner">Told which messages the frame carried once it has been written.</param>
/// <param name="Written">Completed once everything queued before and with it has been written.</param>
public readonly record struct Outbound(
    ReadOnlyMemory<byte> Frame,
    IDeliveryReceipt? Owner = null,
    Delivered Delivered = default,
    TaskCompletionSource? Written = null)
{
    public void OnWritten()
    {
        if (Owner is { } owner)
        {
            if (Delivered.Seq > 0)
            {
                owner.Written(Delivered.ConversationId, Delivered.Seq);
            }

            foreach (var (conversation, seq) in Delivered.Batch ?? [])
            {
                owner.Written(conversation, seq);
            }
        }

        Written?.TrySetResult();
    }
}
