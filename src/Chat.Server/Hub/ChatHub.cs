using System.Collections.Concurrent;
using Chat.Protocol;
using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>
/// Who is where, for one topology: the sessions logged in on this replica (a user may have several, per
/// <see cref="LoginPolicy"/>), per group those of its members, per user the sessions whose friend list holds them;
/// the cluster-wide presence claim and its changes (PRESENCE pushes); and live delivery — recipients here get a stored
/// message or a push directly, the others through the bus. <see cref="LocalHub"/> is a single node; <see cref="RedisHub"/>
/// a replica among others. Nothing else keeps this registry, so nothing else decides what is local. (SignalR's
/// HubLifetimeManager has the same job.)
/// </summary>
public abstract class ChatHub(LoginPolicy devices)
{
    private static readonly byte[] ReplacedFrame = ServerFrames.Error(ErrorCode.Replaced, "you logged in elsewhere: this session was replaced", null);

    private readonly SessionIndex _users = new();
    private readonly SessionIndex _groups = new();
    private readonly SessionIndex _watchers = new();
    private readonly ConcurrentDictionary<UserSession, int[]> _watching = new();

    /// <summary>Users logged in here.</summary>
    public int UserCount => _users.Count;

    /// <summary>Groups with at least one member here.</summary>
    public int GroupCount => _groups.Count;

    /// <summary>Bus channels this replica listens to: one per local user, one per group with a local member.</summary>
    public virtual int Subscriptions => 0;

    /// <summary>What a second login of a user does.</summary>
    public LoginPolicy Devices { get; } = devices;

    /// <summary>A user's sessions may be on several replicas at once: a delivery to a user here goes on the bus too.</summary>
    protected bool SessionsSpanReplicas => Devices == LoginPolicy.Allow;

    protected IEnumerable<UserSession> LocalSessions => _users.Values.SelectMany(sessions => sessions);

    /// <summary>A local session of a user, if the user is logged in here.</summary>
    public UserSession? Find(int userId) => _users.Get(userId) is [var first, ..] ? first : null;

    /// <summary>
    /// Claims the user cluster-wide for this session (per <see cref="Devices"/>) and makes it reachable here; the
    /// user's friends hear of it when it is the user's first session, and a replaced login's older sessions are told.
    /// </summary>
    /// <returns>False when the user is online already and the policy refuses a second login.</returns>
    public async Task<bool> ConnectAsync(UserSession user)
    {
        var claim = await ClaimAsync(user);
        if (claim == Claim.Refused)
        {
            return false;
        }

        try
        {
            Task subscribing;
            lock (_users.Gate)
            {
                // Under the gate: subscribe and unsubscribe of one user's channel stay in order on the bus.
                subscribing = _users.Add(user.Id, user) ? SubscribeAsync(Topic.User(user.Id)) : Task.CompletedTask;
            }

            await subscribing;
        }
        catch
        {
            // Redis went away mid-login: nothing of this session may stay behind, claimed and refreshed for ever.
            await DisconnectAsync(user, []);
            await UnclaimAsync(user);
            throw;
        }

        if (claim == Claim.Replaced)
        {
            var replacing = Delivery.Closing(user.Id, user.SessionId, ReplacedFrame);
            CloseReplaced(replacing);
            Publish(replacing);
        }
        else if (claim == Claim.First)
        {
            AnnouncePresence(user.Id, online: true);
        }

        return true;
    }

    /// <summary>
    /// Stops live delivery to the session: it leaves the registry, its groups and the presence of its friends, and
    /// their channels. The claim stays until <see cref="ReleaseAsync"/>.
    /// </summary>
    public async Task DisconnectAsync(UserSession user, IEnumerable<int> groups)
    {
        var pending = groups.Select(groupId => LeaveGroupAsync(groupId, user)).ToList();
        lock (_users.Gate)
        {
            if (_users.Remove(user.Id, user))
            {
                pending.Add(UnsubscribeAsync(Topic.User(user.Id)));
            }
        }

        if (_watching.TryRemove(user, out var friends))
        {
            foreach (var friend in friends)
            {
                _watchers.Remove(friend, user);
            }
        }

        await Task.WhenAll(pending);
    }

    /// <summary>Ends the session's claim; when it was the user's last session anywhere, the user's friends hear the user is offline.</summary>
    public async Task ReleaseAsync(UserSession user)
    {
        if (await UnclaimAsync(user))
        {
            AnnouncePresence(user.Id, online: false);
        }
    }

    /// <summary>Which of these users are online anywhere in the cluster.</summary>
    public abstract Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds);

    /// <summary>The replicas of the cluster alive now, each with its users.</summary>
    public abstract Task<IReadOnlyList<ReplicaUsers>> ReplicasAsync();

    /// <summary>
    /// Every session of the user, on every replica, gets <paramref name="frame"/> (an ERROR, seed sessions too) and is
    /// closed: an operator's ban or sign-out.
    /// </summary>
    public void CloseEverywhere(int userId, ReadOnlyMemory<byte> frame)
    {
        var closing = Delivery.Closing(userId, 0, frame); // no session is the newer one: all close
        CloseReplaced(closing);
        Publish(closing);
    }

    /// <summary>
    /// The session hears (PRESENCE) when one of these users comes online or goes offline. Call before reading their
    /// state, so no change falls between the read and the watch.
    /// </summary>
    public void Watch(UserSession user, IReadOnlyCollection<int> friendIds)
    {
        _watching.AddOrUpdate(user, _ => [.. friendIds], (_, known) => [.. known.Union(friendIds)]);
        foreach (var friend in friendIds)
        {
            _watchers.Add(friend, user);
        }
    }

    /// <summary>The user's sessions here no longer hear of <paramref name="friendId"/> (REMOVE_FRIEND).</summary>
    public void Unwatch(int userId, int friendId)
    {
        foreach (var session in _users.Get(userId))
        {
            _watchers.Remove(friendId, session);
            // Only while the session is here: one that disconnected meanwhile must not come back into the map.
            while (_watching.TryGetValue(session, out var known) && !_watching.TryUpdate(session, [.. known.Where(id => id != friendId)], known))
            {
            }
        }
    }

    public Task JoinGroupAsync(int groupId, UserSession user)
    {
        lock (_groups.Gate)
        {
            // Subscribing under the lock keeps subscribe/unsubscribe of one group in order on the bus.
            return _groups.Add(groupId, user) ? SubscribeAsync(Topic.Group(groupId)) : Task.CompletedTask;
        }
    }

    /// <summary>
    /// A message this replica stored, or a push: local recipients at once, the others through the bus (once per
    /// message). With several sessions per user allowed, a stored message also reaches the sender's other sessions.
    /// </summary>
    public void Route(Delivery delivery)
    {
        if (delivery.IsGroup)
        {
            DeliverToGroup(delivery);
            Publish(delivery);
            return;
        }

        RouteToUser(delivery);
        if (SessionsSpanReplicas && !delivery.IsPush && delivery.ExceptSession != 0 && delivery.SenderId != delivery.TargetId)
        {
            RouteToUser(delivery with { TargetId = delivery.SenderId });
        }
    }

    /// <summary>What the login of this session does to the user's other sessions, here and elsewhere.</summary>
    protected abstract Task<Claim> ClaimAsync(UserSession user);

    /// <returns>True when this was the user's last session in the cluster (the user is offline now).</returns>
    protected abstract Task<bool> UnclaimAsync(UserSession user);

    protected abstract Task SubscribeAsync(Topic topic);

    protected abstract Task UnsubscribeAsync(Topic topic);

    /// <summary>Hands a delivery to the other replicas. Never waits on them: what fails stays in the store.</summary>
    protected abstract void Publish(Delivery delivery);

    /// <summary>Hands a presence change to the other replicas, whose sessions may watch the user.</summary>
    protected virtual void PublishPresence(Delivery presence)
    {
    }

    /// <summary>The user is online now, or offline: every session here that watches the user hears it; so do the other replicas.</summary>
    protected void AnnouncePresence(int userId, bool online)
    {
        var push = Delivery.PushToUser(userId, userId, ServerFrames.Presence(userId, online));
        DeliverPresence(push);
        PublishPresence(push);
    }

    /// <summary>A presence change (a push whose sender is the user it is about) for the sessions here that watch its user.</summary>
    protected void DeliverPresence(Delivery presence)
    {
        foreach (var watcher in _watchers.Get(presence.SenderId))
        {
            watcher.Deliver(presence);
        }
    }

    /// <summary>A message another replica stored and published.</summary>
    protected void DeliverFromBus(Delivery delivery)
    {
        if (delivery.IsGroup)
        {
            DeliverToGroup(delivery);
        }
        else if (delivery.Kind == DeliveryKind.Close)
        {
            CloseReplaced(delivery);
        }
        else
        {
            DeliverToUser(delivery);
        }
    }

    /// <summary>
    /// The user is out of the group (LEAVE_GROUP, REMOVE_MEMBER): their sessions here stop receiving it and may no
    /// longer send to it, at once. Sessions elsewhere learn it from the <see cref="DeliveryKind.GroupLeft"/> push.
    /// </summary>
    public Task RemoveFromGroupAsync(int userId, int groupId) =>
        Task.WhenAll(_users.Get(userId).Select(session => ForgetGroupAsync(session, groupId)));

    private void RouteToUser(Delivery delivery)
    {
        if (!DeliverToUser(delivery) || SessionsSpanReplicas)
        {
            Publish(delivery);
        }
    }

    private Task ForgetGroupAsync(UserSession session, int groupId)
    {
        session.RemoveGroup(groupId);
        return LeaveGroupAsync(groupId, session);
    }

    /// <summary>To the user's sessions here: a push saying the user left a group also ends that membership in each.</summary>
    /// <returns>False when the user has no session here.</returns>
    private bool DeliverToUser(Delivery delivery)
    {
        var sessions = _users.Get(delivery.TargetId);
        foreach (var session in sessions)
        {
            if (delivery.Kind == DeliveryKind.GroupLeft)
            {
                _ = ForgetGroupAsync(session, delivery.LeftGroup);
            }

            session.Deliver(delivery);
        }

        return sessions.Length > 0;
    }

    /// <summary>To every other member's sessions; a stored message to the sender's other sessions too, a push not.</summary>
    private void DeliverToGroup(Delivery delivery)
    {
        foreach (var member in _groups.Get(delivery.TargetId))
        {
            if (member.Id != delivery.SenderId || (!delivery.IsPush && member.SessionId != delivery.ExceptSession))
            {
                member.Deliver(delivery);
            }
        }
    }

    /// <summary>
    /// Whether this replica's claims on its users hold. False after it could not renew its liveness for longer than
    /// the liveness TTL (<see cref="RedisHub"/>: paused, cut off from Redis): the claims were void meanwhile and the
    /// users may have logged in elsewhere, so every session here has been closed and none is served.
    /// </summary>
    public virtual bool ClaimsHold => true;

    /// <summary>Every session here gets <paramref name="frame"/> and closes: their claims lapsed.</summary>
    protected void CloseAll(byte[] frame)
    {
        foreach (var session in LocalSessions.ToList())
        {
            session.End();
            session.Connection.Send(frame);
            session.Connection.CloseFromOutside();
        }
    }

    /// <summary>The user's sessions here, but the newer one, get ERROR errno 12 (seed ones too: it is a seed frame type) and close.</summary>
    private void CloseReplaced(Delivery replacing)
    {
        foreach (var session in _users.Get(replacing.TargetId))
        {
            if (session.SessionId != replacing.ExceptSession)
            {
                session.End();
                session.Connection.Send(replacing.Frame);
                session.Connection.CloseFromOutside();
            }
        }
    }

    private Task LeaveGroupAsync(int groupId, UserSession user)
    {
        lock (_groups.Gate)
        {
            return _groups.Remove(groupId, user) ? UnsubscribeAsync(Topic.Group(groupId)) : Task.CompletedTask;
        }
    }
}

/// <summary>A live replica (its instance name) and how many users it holds.</summary>
public sealed record ReplicaUsers(string Replica, long Users);

/// <summary>What a login's claim on its user came to, cluster-wide.</summary>
public enum Claim
{
    /// <summary>The user is online and the policy rejects a second login.</summary>
    Refused,

    /// <summary>The user's first session in the cluster: the user comes online.</summary>
    First,

    /// <summary>One more session of a user online already.</summary>
    Another,

    /// <summary>The user was online: the older sessions are to be closed.</summary>
    Replaced,
}

/// <summary>What a replica subscribes to: a user's deliveries, or a group's.</summary>
public readonly record struct Topic(bool IsGroup, int Id)
{
    public static Topic User(int userId) => new(false, userId);

    public static Topic Group(int groupId) => new(true, groupId);

    public static Topic Of(Delivery delivery) => new(delivery.IsGroup, delivery.TargetId);
}
