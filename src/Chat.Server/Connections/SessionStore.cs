using System.Collections.Concurrent;
using Chat.Server.Routing;

namespace Chat.Server.Connections;

/// <summary>
/// The users logged in on this replica and, per group, those of its members: a DI singleton. The bus is
/// subscribed to a user's channel while the user is here, and to a group's channel while at least one member is.
/// </summary>
public sealed class SessionStore(IClusterBus bus)
{
    private readonly ConcurrentDictionary<int, ChatSession> _users = new();
    private readonly ConcurrentDictionary<int, ChatSession[]> _groups = new();
    private readonly Lock _groupsGate = new();

    public int Count => _users.Count;

    /// <summary>Groups with at least one member here.</summary>
    public int GroupCount => _groups.Count;

    public ICollection<int> UserIds() => _users.Keys;

    public ChatSession? Find(int userId) => _users.GetValueOrDefault(userId);

    public ChatSession[] GroupMembers(int groupId) => _groups.GetValueOrDefault(groupId) ?? [];

    /// <returns>False when the user already has a session on this replica.</returns>
    public async Task<bool> AddAsync(int userId, ChatSession session)
    {
        if (!_users.TryAdd(userId, session))
        {
            return false;
        }

        await bus.SubscribeUserAsync(userId);
        return true;
    }

    public async Task RemoveAsync(int userId, ChatSession session, IEnumerable<int> groups)
    {
        var pending = new List<Task>();
        foreach (var groupId in groups)
        {
            pending.Add(LeaveGroupAsync(groupId, session));
        }

        if (_users.TryRemove(new KeyValuePair<int, ChatSession>(userId, session)))
        {
            pending.Add(bus.UnsubscribeUserAsync(userId));
        }

        await Task.WhenAll(pending);
    }

    public Task JoinGroupAsync(int groupId, ChatSession session)
    {
        lock (_groupsGate)
        {
            var members = GroupMembers(groupId);
            if (members.Contains(session))
            {
                return Task.CompletedTask;
            }

            _groups[groupId] = [.. members, session];
            // Subscribing under the lock keeps subscribe/unsubscribe of one group in order on the bus.
            return members.Length == 0 ? bus.SubscribeGroupAsync(groupId) : Task.CompletedTask;
        }
    }

    private Task LeaveGroupAsync(int groupId, ChatSession session)
    {
        lock (_groupsGate)
        {
            var members = GroupMembers(groupId);
            var left = Array.FindAll(members, s => s != session);
            if (left.Length == members.Length)
            {
                return Task.CompletedTask;
            }

            if (left.Length > 0)
            {
                _groups[groupId] = left;
                return Task.CompletedTask;
            }

            _groups.TryRemove(groupId, out _);
            return bus.UnsubscribeGroupAsync(groupId);
        }
    }
}
