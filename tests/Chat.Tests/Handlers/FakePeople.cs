using Chat.Domain;

namespace Chat.Tests.Handlers;

/// <summary>People in memory for unit tests: profiles and blocks kept in dictionaries, FIND by prefix over the profiles.</summary>
public sealed class FakePeople : IPeopleStore
{
    private readonly Dictionary<int, Profile> _profiles = [];
    private readonly HashSet<(int User, int Blocked)> _blocks = [];

    public Task<Profile> SetProfileAsync(int userId, string name, string? about, string? avatar, CancellationToken ct)
    {
        lock (_profiles)
        {
            var old = _profiles.GetValueOrDefault(userId) ?? new Profile(userId, name, "", "");
            return Task.FromResult(_profiles[userId] = old with { About = about ?? old.About, Avatar = avatar ?? old.Avatar });
        }
    }

    public Task<IReadOnlyDictionary<int, Profile>> ProfilesAsync(IReadOnlyCollection<int> userIds, CancellationToken ct)
    {
        lock (_profiles)
        {
            return Task.FromResult<IReadOnlyDictionary<int, Profile>>(_profiles.Where(p => userIds.Contains(p.Key)).ToDictionary());
        }
    }

    public Task<IReadOnlyList<Profile>> FindAsync(string prefix, int limit, CancellationToken ct)
    {
        lock (_profiles)
        {
            return Task.FromResult<IReadOnlyList<Profile>>([.. _profiles.Values.Where(p => p.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Take(limit)]);
        }
    }

    public Task<IReadOnlyList<int>> FriendsEitherWayAsync(int userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<int>>([]);

    public Task<bool> BlockAsync(int userId, int blockedId, bool on, CancellationToken ct)
    {
        lock (_blocks)
        {
            _ = on ? _blocks.Add((userId, blockedId)) : _blocks.Remove((userId, blockedId));
        }

        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<int>> BlockedByAsync(int userId, CancellationToken ct)
    {
        lock (_blocks)
        {
            return Task.FromResult<IReadOnlyList<int>>([.. _blocks.Where(b => b.User == userId).Select(b => b.Blocked)]);
        }
    }

    public Task<BlocksOf> BlocksAsync(int userId, CancellationToken ct)
    {
        lock (_blocks)
        {
            return Task.FromResult(new BlocksOf([.. _blocks.Where(b => b.User == userId).Select(b => b.Blocked)], [.. _blocks.Where(b => b.Blocked == userId).Select(b => b.User)]));
        }
    }
}
