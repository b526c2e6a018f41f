using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>
/// The sessions logged in on this replica: by user (a user may have several, per <see cref="LoginPolicy"/>) and, per
/// group, those of its members. The hub's registry and nothing more: it knows no bus and no presence. Adding a user's
/// first session or a group's first member here, and removing the last, is reported so the hub can subscribe to its
/// channel, in order with the change (<see cref="SessionIndex.Gate"/>).
/// </summary>
public sealed class SessionRegistry
{
    private readonly SessionIndex _users = new();
    private readonly SessionIndex _groups = new();

    /// <summary>Users logged in here.</summary>
    public int UserCount => _users.Count;

    /// <summary>Groups with at least one member here.</summary>
    public int GroupCount => _groups.Count;

    /// <summary>Every session here.</summary>
    public IEnumerable<UserSession> All => _users.Values.SelectMany(sessions => sessions);

    /// <summary>The user's sessions here; none (not allocated) when the user has none.</summary>
    public UserSession[] OfUser(int userId) => _users.Get(userId);

    /// <summary>The sessions here of the group's members.</summary>
    public UserSession[] InGroup(int groupId) => _groups.Get(groupId);

    /// <summary>Adds the session; <paramref name="first"/> runs under the registry's gate when it is the user's first here.</summary>
    public Task AddUser(UserSession session, Func<Task> first)
    {
        lock (_users.Gate)
        {
            return _users.Add(session.Id, session) ? first() : Task.CompletedTask;
        }
    }

    /// <summary>Removes the session; <paramref name="last"/> runs under the registry's gate when it was the user's last here.</summary>
    public Task RemoveUser(UserSession session, Func<Task> last)
    {
        lock (_users.Gate)
        {
            return _users.Remove(session.Id, session) ? last() : Task.CompletedTask;
        }
    }

    /// <summary>Adds the member's session to the group; <paramref name="first"/> runs under the gate when it is the group's first here.</summary>
    public Task JoinGroup(int groupId, UserSession session, Func<Task> first)
    {
        lock (_groups.Gate)
        {
            return _groups.Add(groupId, session) ? first() : Task.CompletedTask;
        }
    }

    /// <summary>Removes the session from the group; <paramref name="last"/> runs under the gate when it was the group's last here.</summary>
    public Task LeaveGroup(int groupId, UserSession session, Func<Task> last)
    {
        lock (_groups.Gate)
        {
            return _groups.Remove(groupId, session) ? last() : Task.CompletedTask;
        }
    }
}
