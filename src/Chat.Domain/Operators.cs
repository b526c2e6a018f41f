namespace Chat.Domain;

/// <summary>
/// Webhooks (issue 24): who of the recipients of a batch of entries has no session online, asked by the message writer
/// once per batch, before it stores the batch, so that each <c>message.offline</c> event is written to the outbox in
/// the batch's own transaction. Registered only when webhooks are on: with none, the writer asks nothing.
/// </summary>
public interface IOfflineRecipients
{
    /// <summary>
    /// Per message (by position), the users it is for who have no session online anywhere: null or empty for none, and
    /// for events (edits, recalls, reactions), which are not announced.
    /// </summary>
    Task<IReadOnlyList<int>?[]> FindAsync(IReadOnlyList<ChatMessage> messages, CancellationToken ct);
}
