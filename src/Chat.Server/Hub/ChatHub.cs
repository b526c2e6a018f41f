using Chat.Protocol;
using Chat.Server.Sessions;

namespace Chat.Server.Hub;

/// <summary>
/// Who is where, for one topology, as SignalR's HubLifetimeManager: sessions connect and disconnect (claiming the user
/// cluster-wide per <see cref="LoginPolicy"/>, closing the sessions a login replaces), join and leave groups, and get
/// what is routed to them — recipients here directly, the others through the bus. It keeps the registry of sessions
/// here (<see cref="SessionRegistry"/>) and who watches whose presence (<see cref="PresenceWatchers"/>), and owns both:
/// nothing else decides what is local. <see cref="LocalHub"/> is a single node; <see cref="RedisHub"/> a replica among
/// others.
/// </summary>
public abstract class ChatHub(LoginPolicy devices)
{
    private static readonly byte[] ReplacedFrame = ServerFrames.Error(ErrorCode.Replaced, "you logged in elsewhere: this session was replaced", null);

    private readonly SessionRegistry _local = new();
    private readonly PresenceWatchers _watchers = new();

    /// <summary>Users logged in here.</summary>
    public int UserCount => _local.UserCount;

    /// <summary>Groups with at least one member here.</summary>
    public int GroupCount => _local.GroupCount;

    /// <summary>Bus channels this replica listens to: one per local user, one per group with a local member.</summary>
    public virtual int Subscriptions => 0;

    /// <summary>The bus as <c>/stats</c> shows it: <c>connected</c>, <c>disconnected</c> or <c>not configured</c> (a single node).</summary>
    public virtual string BusState => "not configured";

    /// <summary>What a second login of a user does.</summary>
    public LoginPolicy Devices { get; } = devices;

    /// <summary>A user's sessions may be on several replicas at once: a delivery to a user here goes on the bus too.</summary>
    protected bool SessionsSpanReplicas => Devices == LoginPolicy.Allow;

    protected IEnumerable<UserSession> LocalSessions => _local.All;

    /// <summary>A local session of a user, if the user is logged in here.</summary>
    public UserSession? Find(int userId) => _local.OfUser(userId) is [var first, ..] ? first : null;

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
            // Under the registry's gate: subscribe and unsubscribe of one user's channel stay in order on the bus.
            await _local.AddUser(user, () => SubscribeAsync(Topic.User(user.Id)));
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
            Route(Delivery.Closing(user.Id, user.SessionId, ReplacedFrame));
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
        pending.Add(_local.RemoveUser(user, () => UnsubscribeAsync(Topic.User(user.Id))));
        _watchers.Forget(user);
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
    public void CloseEverywhere(int userId, ReadOnlyMemory<byte> frame) =>
        Route(Delivery.Closing(userId, 0, frame)); // no session is the newer one: all close

    /// <summary>
    /// The session hears (PRESENCE) when one of these users comes online or goes offline. Call before reading their
    /// state, so no change falls between the read and the watch.
    /// </summary>
    public void Watch(UserSession user, IReadOnlyCollection<int> friendIds) => _watchers.Watch(user, friendIds);

    /// <summary>
    /// <paramref name="userId"/>'s sessions on every replica stop hearing <paramref name="blockerId"/>'s PRESENCE (a block):
    /// they are told the blocker is offline and unwatch them (<see cref="DeliveryKind.PresenceWithdrawn"/>).
    /// </summary>
    public void WithdrawPresence(int blockerId, int userId) => Route(Delivery.PresenceWithdrawnBy(blockerId, userId));

    /// <summary>The user's sessions here no longer hear of <paramref name="friendId"/> (REMOVE_FRIEND).</summary>
    public void Unwatch(int userId, int friendId)
    {
        foreach (var session in _local.OfUser(userId))
        {
            _watchers.Unwatch(session, friendId);
        }
    }

    /// <summary>Subscribing under the registry's gate keeps subscribe/unsubscribe of one group in order on the bus.</summary>
    public Task JoinGroupAsync(int groupId, UserSession user) =>
        _local.JoinGroup(groupId, user, () => SubscribeAsync(Topic.Group(groupId)));

    /// <summary>
    /// The user is out of the group (LEAVE_GROUP, REMOVE_MEMBER): their sessions here stop receiving it and may no
    /// longer send to it, at once. Sessions elsewhere learn it from the <see cref="DeliveryKind.GroupLeft"/> push.
    /// </summary>
    public Task RemoveFromGroupAsync(int userId, int groupId) =>
        Task.WhenAll(_local.OfUser(userId).Select(session => ForgetGroupAsync(session, groupId)));

    /// <summary>
    /// A message this replica stored, a push, or a close: to the recipients here at once and, unless they were all
    /// here, through the bus (once per delivery). A stored direct message also reaches the sender's sessions: the
    /// others than the one that sent it when several sessions per user are allowed, and every one of them when none
    /// sent it (an operator's recall, in the author's name).
    /// </summary>
    public void Route(Delivery delivery)
    {
        if (PublishedAfterDeliveryHere(delivery))
        {
            DeliverHere(delivery);
            Publish(delivery);
        }
        else if (!DeliverHere(delivery))
        {
            Publish(delivery); // the user's sessions are all on one replica: not this one
        }

        if (!delivery.IsPush && !delivery.IsGroup && delivery.SenderId != delivery.TargetId && (SessionsSpanReplicas || delivery.ExceptSession == 0))
        {
            Route(delivery with { TargetId = delivery.SenderId });
        }
    }

    /// <summary>
    /// Whether <see cref="Route"/> delivers this here and publishes it as well, so that this replica skips its own copy
    /// when the bus brings it back: a group's (members may be anywhere), a close (the user's sessions may be anywhere),
    /// and every delivery while a user's sessions may span replicas. Otherwise a user's sessions are all on one replica,
    /// and a delivery is published only when none is here — so a copy that comes back is one not delivered yet (the user
    /// logged in here meanwhile). The one place that decides "delivered here already".
    /// </summary>
    protected bool PublishedAfterDeliveryHere(Delivery delivery) =>
        delivery.IsGroup || delivery.Kind == DeliveryKind.Close || SessionsSpanReplicas;

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
        _watchers.Deliver(push);
        PublishPresence(push);
    }

    /// <summary>A presence change another replica announced, for the sessions here that watch its user.</summary>
    protected void DeliverPresence(Delivery presence) => _watchers.Deliver(presence);

    /// <summary>
    /// To the recipients here: a group's members, the user's sessions (a close closes them; a push saying the user left a
    /// group ends that membership in each). Whatever the bus brings, and what <see cref="Route"/> delivers here.
    /// </summary>
    /// <returns>False when no recipient is here.</returns>
    protected bool DeliverHere(Delivery delivery)
    {
        if (delivery.IsGroup)
        {
            DeliverToGroup(delivery);
            return true;
        }

        var sessions = _local.OfUser(delivery.TargetId);
        foreach (var session in sessions)
        {
            switch (delivery.Kind)
            {
                case DeliveryKind.Close when session.SessionId != delivery.ExceptSession:
                    Close(session, delivery.Frame);
                    break;
                case DeliveryKind.Close:
                    break;
                case DeliveryKind.GroupLeft:
                    _ = ForgetGroupAsync(session, delivery.LeftGroup);
                    session.Deliver(delivery);
                    break;
                case DeliveryKind.PresenceWithdrawn:
                    _watchers.Unwatch(session, delivery.SenderId);
                    session.Deliver(delivery);
                    break;
                default:
                    session.Deliver(delivery);
                    break;
            }
        }

        return sessions.Length > 0;
    }

    private Task ForgetGroupAsync(UserSession session, int groupId)
    {
        session.RemoveGroup(groupId);
        return LeaveGroupAsync(groupId, session);
    }

    /// <summary>To every other member's sessions; a stored message to the sender's other sessions too, a push not.</summary>
    private void DeliverToGroup(Delivery delivery)
    {
        foreach (var member in _local.InGroup(delivery.TargetId))
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
            Close(session, frame);
        }
    }

    /// <summary>The session gets <paramref name="frame"/> (an ERROR: seed sessions too) after what was queued for it, and closes.</summary>
    private static void Close(UserSession session, ReadOnlyMemory<byte> frame)
    {
        session.End();
        session.Connection.Send(frame);
        session.Connection.CloseFromOutside();
    }

    private Task LeaveGroupAsync(int groupId, UserSession user) =>
        _local.LeaveGroup(groupId, user, () => UnsubscribeAsync(Topic.Group(groupId)));
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
