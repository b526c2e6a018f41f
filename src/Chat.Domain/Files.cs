namespace Chat.Domain;

/// <summary>An uploaded file as recorded: who uploaded it, what it is, whether it has a thumbnail, and whether it was ever sent.</summary>
/// <param name="Id">128 random bits, lower-case hex.</param>
/// <param name="ThumbType">The thumbnail's media type; null when there is none (not an image).</param>
/// <param name="CreatedAt">UTC.</param>
/// <param name="SentAt">UTC, first sent in a message or made an avatar; null: never.</param>
public sealed record FileRecord(
    string Id,
    int UploaderId,
    string Name,
    string Type,
    long Size,
    string? ThumbType,
    long ThumbSize,
    DateTime CreatedAt,
    DateTime? SentAt)
{
    public FileRef Ref => new(Id, Name, Size, Type, ThumbType is not null);
}

/// <summary>A file as a chat message carries it (<c>file: {id, name, size, type, thumb}</c>).</summary>
public sealed record FileRef(string Id, string Name, long Size, string Type, bool Thumb);

/// <summary>Files' records (not their bytes): what was uploaded, who may read it, which messages carry it.</summary>
public interface IFileCatalog
{
    Task AddAsync(FileRecord file, CancellationToken ct);

    Task<FileRecord?> FindAsync(string id, CancellationToken ct);

    /// <summary>Bytes <paramref name="userId"/> uploaded since <paramref name="since"/> (UTC): the daily quota.</summary>
    Task<long> UploadedSinceAsync(int userId, DateTime since, CancellationToken ct);

    /// <summary>
    /// The uploader, the parties of every conversation it was sent in (a group: its members now), and anyone when it
    /// is someone's avatar.
    /// </summary>
    Task<bool> MayReadAsync(int userId, FileRecord file, CancellationToken ct);

    /// <summary>The message at <paramref name="seq"/> carries the file (a repeat is harmless); the file counts as sent.</summary>
    Task LinkAsync(long conversationId, long seq, string fileId, DateTime now, CancellationToken ct);

    /// <summary>The file counts as sent (an avatar): it is not erased as unsent.</summary>
    Task MarkSentAsync(string fileId, DateTime now, CancellationToken ct);

    /// <summary>Files never sent and uploaded before <paramref name="before"/>, oldest first.</summary>
    Task<IReadOnlyList<string>> UnsentAsync(DateTime before, int limit, CancellationToken ct);

    /// <summary>
    /// The message at <paramref name="seq"/> no longer carries its file (RECALL): the file's id when no other message
    /// holds it and it is nobody's avatar (it is then the caller's to erase), else null.
    /// </summary>
    Task<string?> UnlinkAsync(long conversationId, long seq, CancellationToken ct);

    /// <summary>
    /// The record goes (its bytes are the blob store's to erase). The messages that carried it keep their text.
    /// </summary>
    Task DeleteAsync(string id, CancellationToken ct);
}
