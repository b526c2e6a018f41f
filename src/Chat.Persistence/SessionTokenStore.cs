using Chat.Domain;
using Microsoft.EntityFrameworkCore;

namespace Chat.Persistence;

/// <summary>Session tokens by hash, through EF Core: one instance (and one <see cref="ChatDbContext"/>) per scope.</summary>
public sealed class SessionTokenStore(ChatDbContext db, TimeProvider time) : ISessionTokenStore
{
    public async Task AddAsync(int userId, string tokenHash, DateTimeOffset expiresAt, CancellationToken ct)
    {
        db.SessionTokens.Add(new SessionTokenEntity { TokenHash = tokenHash, UserId = userId, ExpiresAt = expiresAt.UtcDateTime });
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();

        // The user's expired tokens go as new ones come: the table holds live tokens and a few stale ones at most.
        var now = time.GetUtcNow().UtcDateTime;
        await db.SessionTokens.Where(t => t.UserId == userId && t.ExpiresAt < now).ExecuteDeleteAsync(ct);
    }

    public Task<int?> FindUserAsync(string tokenHash, DateTimeOffset now, CancellationToken ct)
    {
        var utc = now.UtcDateTime;
        return db.SessionTokens.AsNoTracking()
            .Where(t => t.TokenHash == tokenHash && t.ExpiresAt > utc)
            .Select(t => (int?)t.UserId)
            .FirstOrDefaultAsync(ct);
    }

    public Task RevokeAllAsync(int userId, CancellationToken ct) =>
        db.SessionTokens.Where(t => t.UserId == userId).ExecuteDeleteAsync(ct);
}
