using System.Collections.Concurrent;
using Chat.Domain;

namespace Chat.Server.Handlers;

/// <summary>
/// Users are never deleted, so once a user id is known to exist it stays known: chat to a known user costs no
/// query and no store at all. Only a miss opens a scope and asks the store (the user may register later). Bounded.
/// </summary>
public sealed class KnownUsers(IServiceScopeFactory scopes)
{
    private const int Capacity = 1_000_000;
    private readonly ConcurrentDictionary<int, byte> _known = new();

    public async ValueTask<bool> ExistsAsync(int userId, CancellationToken ct)
    {
        if (_known.ContainsKey(userId))
        {
            return true;
        }

        await using var scope = scopes.CreateAsyncScope();
        if (!await scope.ServiceProvider.GetRequiredService<IChatStore>().UserExistsAsync(userId, ct))
        {
            return false;
        }

        if (_known.Count < Capacity)
        {
            _known.TryAdd(userId, 0);
        }

        return true;
    }
}
