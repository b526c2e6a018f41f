using Chat.Domain;
using Microsoft.EntityFrameworkCore;

namespace Chat.Persistence;

/// <summary>Files' records through EF Core: one instance (and one <see cref="ChatDbContext"/>) per scope.</summary>
public sealed class FileCatalog(ChatDbContext db, DatabaseProvider provider) : IFileCatalog
{
    public async Task AddAsync(FileRecord file, CancellationToken ct)
    {
        db.Files.Add(new FileEntity
        {
            Id = file.Id,
            UploaderId = file.UploaderId,
            Name = file.Name,
            Type = file.Type,
            Size = file.Size,
            ThumbType = file.ThumbType,
            ThumbSize = file.ThumbSize,
            CreatedAt = file.CreatedAt,
            SentAt = file.SentAt,
        });
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    public async Task<FileRecord?> FindAsync(string id, CancellationToken ct)
    {
        var f = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id, ct);
        return f is null ? null : ToRecord(f);
    }

    public async Task<long> UploadedSinceAsync(int userId, DateTime since, CancellationToken ct) =>
        await db.Files.AsNoTracking().Where(f => f.UploaderId == userId && f.CreatedAt > since).SumAsync(f => (long?)f.Size, ct) ?? 0;

    public async Task<bool> MayReadAsync(int userId, FileRecord file, CancellationToken ct)
    {
        if (file.UploaderId == userId)
        {
            return true;
        }

        var conversations = await db.MessageFiles.AsNoTracking().Where(m => m.FileId == file.Id).Select(m => m.ConversationId).Distinct().ToListAsync(ct);
        foreach (var conversation in conversations)
        {
            if (!ConversationId.IsGroup(conversation) && conversation == ConversationId.Direct(userId, ConversationId.Peer(conversation, userId)))
            {
                return true;
            }
        }

        var groups = conversations.Where(ConversationId.IsGroup).Select(c => (int)c).ToList();
        if (groups.Count > 0 && await db.GroupMembers.AsNoTracking().AnyAsync(m => m.UserId == userId && groups.Contains(m.GroupId), ct))
        {
            return true;
        }

        return await db.Profiles.AsNoTracking().AnyAsync(p => p.Avatar == file.Id, ct);
    }

    public async Task LinkAsync(long conversationId, long seq, string fileId, DateTime now, CancellationToken ct)
    {
        db.MessageFiles.Add(new MessageFileEntity { ConversationId = conversationId, Seq = seq, FileId = fileId });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (provider.IsUniqueViolation(ex))
        {
            // A resent message (its cid repeated) was linked the first time.
        }

        db.ChangeTracker.Clear();
        await MarkSentAsync(fileId, now, ct);
    }

    public Task MarkSentAsync(string fileId, DateTime now, CancellationToken ct) =>
        db.Files.Where(f => f.Id == fileId && f.SentAt == null).ExecuteUpdateAsync(s => s.SetProperty(f => f.SentAt, now), ct);

    public async Task<IReadOnlyList<string>> UnsentAsync(DateTime before, int limit, CancellationToken ct) =>
        await db.Files.AsNoTracking()
            .Where(f => f.SentAt == null && f.CreatedAt < before)
            .OrderBy(f => f.CreatedAt)
            .Select(f => f.Id)
            .Take(limit)
            .ToListAsync(ct);

    public async Task<string?> UnlinkAsync(long conversationId, long seq, CancellationToken ct)
    {
        var link = await db.MessageFiles.AsNoTracking().FirstOrDefaultAsync(m => m.ConversationId == conversationId && m.Seq == seq, ct);
        if (link is null)
        {
            return null;
        }

        await db.MessageFiles.Where(m => m.ConversationId == conversationId && m.Seq == seq).ExecuteDeleteAsync(ct);
        var held = await db.MessageFiles.AnyAsync(m => m.FileId == link.FileId, ct) || await db.Profiles.AnyAsync(p => p.Avatar == link.FileId, ct);
        return held ? null : link.FileId;
    }

    public Task DeleteAsync(string id, CancellationToken ct) => db.Files.Where(f => f.Id == id).ExecuteDeleteAsync(ct);

    /// <summary>The files of these messages (those that carry one), by conversation and seq: one query.</summary>
    internal static async Task<Dictionary<(long, long), FileRef>> OfMessagesAsync(ChatDbContext db, IReadOnlyCollection<StoredMessage> messages, CancellationToken ct)
    {
        if (messages.Count == 0)
        {
            return [];
        }

        var conversations = messages.Select(m => m.Message.ConversationId).Distinct().ToList();
        var seqs = messages.Select(m => m.Seq).Distinct().ToList();
        var rows = await (from m in db.MessageFiles.AsNoTracking()
                          where conversations.Contains(m.ConversationId) && seqs.Contains(m.Seq)
                          join f in db.Files.AsNoTracking() on m.FileId equals f.Id
                          select new { m.ConversationId, m.Seq, f })
            .ToListAsync(ct);
        return rows.ToDictionary(r => (r.ConversationId, r.Seq), r => ToRecord(r.f).Ref);
    }

    /// <summary>The files of these ids, by id (one query; none when there are none).</summary>
    internal static async Task<Dictionary<string, FileRef>> RefsAsync(ChatDbContext db, IReadOnlyCollection<string> ids, CancellationToken ct) =>
        ids.Count == 0
            ? []
            : (await db.Files.AsNoTracking().Where(f => ids.Contains(f.Id)).ToListAsync(ct)).ToDictionary(f => f.Id, f => ToRecord(f).Ref);

    private static FileRecord ToRecord(FileEntity f) =>
        new(f.Id, f.UploaderId, f.Name, f.Type, f.Size, f.ThumbType, f.ThumbSize, DateTime.SpecifyKind(f.CreatedAt, DateTimeKind.Utc),
            f.SentAt is { } sent ? DateTime.SpecifyKind(sent, DateTimeKind.Utc) : null);
}
