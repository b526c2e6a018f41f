using Chat.Domain;
using Microsoft.EntityFrameworkCore;

namespace Chat.Persistence;

/// <summary>The admin API's reads and changes, through EF Core: one instance (and one <see cref="ChatDbContext"/>) per scope.</summary>
public sealed class AdminStore(ChatDbContext db, WebhookOutbox? webhooks = null) : IAdminStore
{
    public async Task<IReadOnlyList<FriendInfo>> UsersByNameAsync(string prefix, int limit, CancellationToken ct)
    {
        var lower = prefix.ToLowerInvariant();
#pragma warning disable CA1862 // translated to LOWER(name) LIKE 'x%' on every engine; the StringComparison overloads do not translate
        return await db.Users.AsNoTracking()
            .Where(u => u.Name.ToLower().StartsWith(lower))
#pragma warning restore CA1862
            .OrderBy(u => u.Id)
            .Take(limit)
            .Select(u => new FriendInfo(u.Id, u.Name))
            .ToListAsync(ct);
    }

    public async Task<Ban?> BanAsync(int userId, DateTimeOffset now, CancellationToken ct)
    {
        var utc = now.UtcDateTime;
        var ban = await db.Bans.AsNoTracking()
            .Where(b => b.UserId == userId && (b.Until == null || b.Until > utc))
            .FirstOrDefaultAsync(ct);
        return ban is null ? null : new Ban(ban.Reason, ban.Until is { } until ? new DateTimeOffset(until, TimeSpan.Zero) : null);
    }

    public async Task BanAsync(int userId, Ban ban, DateTimeOffset now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Bans.Where(b => b.UserId == userId).ExecuteDeleteAsync(ct);
        db.Bans.Add(new BanEntity { UserId = userId, Reason = ban.Reason, Until = ban.Until?.UtcDateTime, CreatedAt = now.UtcDateTime });
        if (webhooks is not null)
        {
            db.WebhookOutbox.Add(WebhookOutbox.Banned(userId, ban, now.ToUnixTimeMilliseconds())); // in the ban's transaction (issue 24)
        }

        await db.SaveChangesAsync(ct);
        await db.SessionTokens.Where(t => t.UserId == userId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        db.ChangeTracker.Clear();
    }

    public async Task<bool> LiftBanAsync(int userId, CancellationToken ct) =>
        await db.Bans.Where(b => b.UserId == userId).ExecuteDeleteAsync(ct) > 0;

    public async Task<GroupInfo?> GroupAsync(int groupId, CancellationToken ct) =>
        (await ChatStore.GroupsWithMembersAsync(db, db.Groups.Where(g => g.Id == groupId).Select(g => g.Id), ct)).SingleOrDefault();
}
