using Chat.Domain;

namespace Chat.Persistence;

public sealed partial class ChatStore
{
    /// <summary>The messages, those that carry a file with it (<see cref="ChatMessage.File"/>).</summary>
    private async Task<List<StoredMessage>> WithFilesAsync(List<StoredMessage> messages, CancellationToken ct)
    {
        var files = await FileCatalog.OfMessagesAsync(db, messages, ct);
        if (files.Count == 0)
        {
            return messages;
        }

        return [.. messages.Select(m => files.TryGetValue((m.Message.ConversationId, m.Seq), out var file) ? m with { Message = m.Message with { File = file } } : m)];
    }
}
