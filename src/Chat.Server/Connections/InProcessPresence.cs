using System.Collections.Concurrent;
using Chat.Domain;

namespace Chat.Server.Connections;

/// <summary>Presence for a single node without Redis: online means logged in on this process.</summary>
public sealed class InProcessPresence : IPresence
{
    private readonly ConcurrentDictionary<int, byte> _online = new();

    public Task<bool> TryClaimAsync(int userId) => Task.FromResult(_online.TryAdd(userId, 0));

    public Task ReleaseAsync(int userId)
    {
        _online.TryRemove(userId, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds) =>
        Task.FromResult<IReadOnlySet<int>>(userIds.Where(_online.ContainsKey).ToHashSet());
}
