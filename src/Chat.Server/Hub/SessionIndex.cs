using System.Collections.Concurrent;
using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>
/// Local sessions by a key (a user, a group, a watched friend), copy-on-write: a delivery reads an array without a
/// lock or an allocation; adding and removing, rare next to deliveries, swap the array under <see cref="Gate"/>.
/// </summary>
public sealed class SessionIndex
{
    private readonly ConcurrentDictionary<int, UserSession[]> _map = new();

    /// <summary>Held while adding or removing; a caller may hold it longer to keep what follows in order (e.g. subscribing).</summary>
    public Lock Gate { get; } = new();

    /// <summary>Keys with at least one session.</summary>
    public int Count => _map.Count;

    public ICollection<UserSession[]> Values => _map.Values;

    /// <summary>The sessions under <paramref name="key"/>; an empty array (not allocated) when none.</summary>
    public UserSession[] Get(int key) => _map.GetValueOrDefault(key) ?? [];

    /// <returns>True when <paramref name="session"/> is the key's first (it had none before).</returns>
    public bool Add(int key, UserSession session)
    {
        lock (Gate)
        {
            var sessions = Get(key);
            if (sessions.Contains(session))
            {
                return false;
            }

            _map[key] = [.. sessions, session];
            return sessions.Length == 0;
        }
    }

    /// <returns>True when <paramref name="session"/> was the key's last (it has none now).</returns>
    public bool Remove(int key, UserSession session)
    {
        lock (Gate)
        {
            var sessions = Get(key);
            var left = Array.FindAll(sessions, s => s != session);
            if (left.Length == sessions.Length)
            {
                return false;
            }

            if (left.Length > 0)
            {
                _map[key] = left;
                return false;
            }

            _map.TryRemove(key, out _);
            return true;
        }
    }
}
