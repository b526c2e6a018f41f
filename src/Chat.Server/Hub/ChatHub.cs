using System.Collections.Concurrent;
using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>
/// Who is where, for one topology: the users logged in on this replica and, per group, those of its members; the
/// cluster-wide presence claim; and live delivery — recipients here get a stored message directly, the others through
/// the bus. <see cref="LocalHub"/> is a single node; <see cref="RedisHub"/> a replica among others. Nothing else keeps
/// this registry, so nothing else decides what is local. (SignalR's HubLifetimeManager has the same job.)
/// </summary>
public abstract class ChatHub
{
    private readonly ConcurrentDictionary<int, UserSession> _users = new();
    private readonly ConcurrentDictionary<int, UserSession[]> _groups = new();
    private readonly Lock _groupsGate = new();

    /// <summary>Users logged in here.</summary>
    public int UserCount => _users.Count;

    /// <summary>Groups with at least one member here.</summary>
    public int GroupCount => _groups.Count;

    /// <summary>Bus channels this replica listens to: one per local user, one per group with a local member.</summary>
    public virtual int Subscriptions => 0;

    protected ICollection<int> LocalUserIds => _users.Keys;

    /// <summary>The local session of a user, if the user is logged in here.</summary>
    public UserSession? Find(int userId) => _users.GetValueOrDefault(userId);

    /// <summary>Claims the user cluster-wide and makes the session reachable here.</summary>
    /// <returns>False when the user is online already, here or elsewhere.</returns>
    public async Task<bool> ConnectAsync(UserSession user)
    {
        if (!await TryClaimAsync(user.Id))
        {
            return false;
        }

        if (_users.TryAdd(user.Id, user))
        {
            await SubscribeAsync(Topic.User(user.Id));
            return true;
        }

        await ReleaseAsync(user.Id);
        return false;
    }

    /// <summary>Stops live delivery to the session: it leaves the registry and its channels. The claim stays until <see cref="ReleaseAsync"/>.</summary>
    public async Task DisconnectAsync(UserSession user, IEnumerable<int> groups)
    {
        var pending = groups.Select(groupId => LeaveGroupAsync(groupId, user)).ToList();
        if (_users.TryRemove(new KeyValuePair<int, UserSession>(user.Id, user)))
        {
            pending.Add(UnsubscribeAsync(Topic.User(user.Id)));
        }

        await Task.WhenAll(pending);
    }

    /// <summary>Frees the user to log in anywhere (if the claim is still this replica's).</summary>
    public abstract Task ReleaseAsync(int userId);

    /// <summary>Which of these users are online anywhere in the cluster.</summary>
    public abstract Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds);

    public Task JoinGroupAsync(int groupId, UserSession user)
    {
        lock (_groupsGate)
        {
            var members = GroupMembers(groupId);
            if (members.Contains(user))
            {
                return Task.CompletedTask;
            }

            _groups[groupId] = [.. members, user];
            // Subscribing under the lock keeps subscribe/unsubscribe of one group in order on the bus.
            return members.Length == 0 ? SubscribeAsync(Topic.Group(groupId)) : Task.CompletedTask;
        }
    }

    /// <summary>A message this replica stored: local recipients at once, the others through the bus (once per message).</summary>
    public void Route(Delivery delivery)
    {
        if (delivery.IsGroup)
        {
            DeliverToGroup(delivery);
            Publish(delivery);
        }
        else if (Find(delivery.TargetId) is { } recipient)
        {
            Hand(recipient, delivery);
        }
        else
        {
            Publish(delivery);
        }
    }

    protected abstract Task<bool> TryClaimAsync(int userId);

    protected abstract Task SubscribeAsync(Topic topic);

    protected abstract Task UnsubscribeAsync(Topic topic);

    /// <summary>Hands a delivery to the other replicas. Never waits on them: what fails stays in the store.</summary>
    protected abstract void Publish(Delivery delivery);

    /// <summary>A message another replica stored and published.</summary>
    protected void DeliverFromBus(Delivery delivery)
    {
        if (delivery.IsGroup)
        {
            DeliverToGroup(delivery);
        }
        else if (Find(delivery.TargetId) is { } recipient)
        {
            Hand(recipient, delivery);
        }
    }

    /// <summary>
    /// The user is out of the group (LEAVE_GROUP, REMOVE_MEMBER): their sessions here stop receiving it and may no
    /// longer send to it, at once. Sessions elsewhere learn it from the <see cref="Delivery.GroupLeft"/> push.
    /// </summary>
    public Task RemoveFromGroupAsync(int userId, int groupId) =>
        Find(userId) is { } session ? ForgetGroupAsync(session, groupId) : Task.CompletedTask;

    /// <summary>A delivery to one user, handed to a session of theirs here: a push saying they left a group also ends that membership.</summary>
    private void Hand(UserSession recipient, Delivery delivery)
    {
        if (delivery.GroupLeft is { } groupId)
        {
            _ = ForgetGroupAsync(recipient, groupId);
        }

        recipient.Deliver(delivery);
    }

    private Task ForgetGroupAsync(UserSession session, int groupId)
    {
        session.RemoveGroup(groupId);
        return LeaveGroupAsync(groupId, session);
    }

    private UserSession[] GroupMembers(int groupId) => _groups.GetValueOrDefault(groupId) ?? [];

    private void DeliverToGroup(Delivery delivery)
    {
        foreach (var member in GroupMembers(delivery.TargetId))
        {
            if (member.Id != delivery.SenderId)
            {
                member.Deliver(delivery);
            }
        }
    }

    private Task LeaveGroupAsync(int groupId, UserSession user)
    {
        lock (_groupsGate)
        {
            var members = GroupMembers(groupId);
            var left = Array.FindAll(members, s => s != user);
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
            return UnsubscribeAsync(Topic.Group(groupId));
        }
    }
}

/// <summary>What a replica subscribes to: a user's deliveries, or a group's.</summary>
public readonly record struct Topic(bool IsGroup, int Id)
{
    public static Topic User(int userId) => new(false, userId);

    public static Topic Group(int groupId) => new(true, groupId);

    public static Topic Of(Delivery delivery) => new(delivery.IsGroup, delivery.TargetId);
}
