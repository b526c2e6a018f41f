using Chat.Domain;
using Microsoft.EntityFrameworkCore;

namespace Chat.Persistence;

/// <summary>Profiles, FIND and blocks through EF Core: one instance (and one <see cref="ChatDbContext"/>) per scope.</summary>
public sealed class PeopleStore(ChatDbContext db, DatabaseProvider provider) : IPeopleStore
{
    public async Task<Profile> SetProfileAsync(int userId, string name, string? about, string? avatar, CancellationToken ct)
    {
        var row = await db.Profiles.FirstOrDefaultAsync(p => p.UserId == userId, ct);
        if (row is null)
        {
            row = new ProfileEntity { UserId = userId, About = about ?? "", Avatar = avatar ?? "" };
            db.Profiles.Add(row);
        }
        else
        {
            row.About = about ?? row.About;
            row.Avatar = avatar ?? row.Avatar;
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (provider.IsUniqueViolation(ex))
        {
            // Two sessions of the user set a first profile at once: the other's row is there now; apply over it.
            db.ChangeTracker.Clear();
            return await SetProfileAsync(userId, name, about, avatar, ct);
        }

        db.ChangeTracker.Clear();
        return new Profile(userId, name, row.About, row.Avatar);
    }

    public async Task<IReadOnlyDictionary<int, Profile>> ProfilesAsync(IReadOnlyCollection<int> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0)
        {
            return new Dictionary<int, Profile>();
        }

        var ids = userIds.ToList();
        var rows = await (from p in db.Profiles.AsNoTracking()
                          where ids.Contains(p.UserId)
                          join u in db.Users.AsNoTracking() on p.UserId equals u.Id
                          select new Profile(p.UserId, u.Name, p.About, p.Avatar))
            .ToListAsync(ct);
        return rows.ToDictionary(p => p.Id);
    }

    public async Task<IReadOnlyList<Profile>> FindAsync(string prefix, int limit, CancellationToken ct)
    {
        var lower = prefix.ToLowerInvariant();
#pragma warning disable CA1862 // translated to SQL: LOWER(name) LIKE 'q%' on every engine (a StringComparison overload is not)
        return await (from u in db.Users.AsNoTracking()
                      where u.Name.ToLower().StartsWith(lower)
                      orderby u.Name
                      join p in db.Profiles.AsNoTracking() on u.Id equals p.UserId into ps
                      from p in ps.DefaultIfEmpty()
                      select new Profile(u.Id, u.Name, p == null ? "" : p.About, p == null ? "" : p.Avatar))
            .Take(limit)
            .ToListAsync(ct);
#pragma warning restore CA1862
    }

    public async Task<IReadOnlyList<int>> FriendsEitherWayAsync(int userId, CancellationToken ct)
    {
        var added = await db.Friends.AsNoTracking().Where(f => f.UserId == userId).Select(f => f.FriendId).ToListAsync(ct);
        var addedBy = await db.Friends.AsNoTracking().Where(f => f.FriendId == userId).Select(f => f.UserId).ToListAsync(ct);
        return [.. added.Concat(addedBy).Distinct()];
    }

    public async Task<bool> BlockAsync(int userId, int blockedId, bool on, CancellationToken ct)
    {
        if (!await db.Users.AsNoTracking().AnyAsync(u => u.Id == blockedId, ct))
        {
            return false;
        }

        if (!on)
        {
            await db.Blocks.Where(b => b.UserId == userId && b.BlockedId == blockedId).ExecuteDeleteAsync(ct);
            return true;
        }

        if (await db.Blocks.AsNoTracking().AnyAsync(b => b.UserId == userId && b.BlockedId == blockedId, ct))
        {
            return true;
        }

        db.Blocks.Add(new BlockEntity { UserId = userId, BlockedId = blockedId });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (provider.IsUniqueViolation(ex))
        {
            // Blocked twice at once: once is enough.
        }

        db.ChangeTracker.Clear();
        return true;
    }

    public async Task<IReadOnlyList<int>> BlockedByAsync(int userId, CancellationToken ct) =>
        await db.Blocks.AsNoTracking().Where(b => b.UserId == userId).Select(b => b.BlockedId).ToListAsync(ct);

    public async Task<BlocksOf> BlocksAsync(int userId, CancellationToken ct)
    {
        var rows = await db.Blocks.AsNoTracking().Where(b => b.UserId == userId || b.BlockedId == userId).ToListAsync(ct);
        return new BlocksOf([.. rows.Where(b => b.UserId == userId).Select(b => b.BlockedId)], [.. rows.Where(b => b.BlockedId == userId).Select(b => b.UserId)]);
    }
}
