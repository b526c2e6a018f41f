using System.Collections.Concurrent;
using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>
/// Who on this replica watches whose presence: per user, the local sessions whose friend list holds them. A PRESENCE
/// change is delivered to these; nothing here knows how the change was learnt (this replica, or the bus).
/// </summary>
public sealed class PresenceWatchers
{
    private readonly SessionIndex _watchers = new();
    private readonly ConcurrentDictionary<UserSession, int[]> _watching = new();

    /// <summary>The session hears of these users from now on.</summary>
    public void Watch(UserSession session, IReadOnlyCollection<int> userIds)
    {
        _watching.AddOrUpdate(session, _ => [.. userIds], (_, known) => [.. known.Union(userIds)]);
        foreach (var userId in userIds)
        {
            _watchers.Add(userId, session);
        }
    }

    /// <summary>The session no longer hears of <paramref name="userId"/>.</summary>
    public void Unwatch(UserSession session, int userId)
    {
        _watchers.Remove(userId, session);
        // Only while the session is here: one that disconnected meanwhile must not come back into the map.
        while (_watching.TryGetValue(session, out var known) && !_watching.TryUpdate(session, [.. known.Where(id => id != userId)], known))
        {
        }
    }

    /// <summary>The session left: it hears of nobody any more.</summary>
    public void Forget(UserSession session)
    {
        if (_watching.TryRemove(session, out var userIds))
        {
            foreach (var userId in userIds)
            {
                _watchers.Remove(userId, session);
            }
        }
    }

    /// <summary>A presence change (a push whose sender is the user it is about) to the sessions here that watch its user.</summary>
    public void Deliver(Delivery presence)
    {
        foreach (var watcher in _watchers.Get(presence.SenderId))
        {
            watcher.Deliver(presence);
        }
    }
}
