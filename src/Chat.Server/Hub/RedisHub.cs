using System.Collections.Concurrent;
using System.Diagnostics;
using Chat.Protocol;
using Chat.Server.Sessions;
using Chat.Server.Telemetry;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Server.Hub;

/// <summary>
/// A replica among others, joined by Redis. Presence: <see cref="RedisPresence"/> claims, refreshed here for the
/// local users every third of the TTL, and this replica's liveness key, refreshed every third of its (short) TTL and
/// deleted on a clean stop; a replica that could not renew it for longer than its TTL closes its sessions before it
/// serves them again (<see cref="ClaimsHold"/>). Bus (names as with the default <see cref="RedisOptions.RedisPrefix"/>): <c>chat:user:{id}</c> is subscribed while the user is here,
/// <c>chat:group:{id}</c> while a member is. The subscriber only hands frames to bounded per-connection queues: it
/// never waits on a client. StackExchange.Redis resubscribes everything by itself when the connection comes back. On a
/// Redis Cluster the channels are sharded: each lives on the master of its slot, so the bus grows with the masters.
/// Each payload carries its publish time and the publishing span, so the delivery on the other replica is measured and
/// traced as part of the sender's trace.
/// </summary>
public sealed class RedisHub(
    ConnectionMultiplexer redis,
    RedisTopology topology,
    RedisPresence presence,
    ChatMetrics metrics,
    TimeProvider time,
    IOptions<ChatServerOptions> options,
    IOptions<RedisOptions> presenceOptions,
    IOptions<LoginOptions> logins,
    ILogger<RedisHub> log) : ChatHub(logins.Value.Multiple), IHostedService, IDisposable
{
    private static readonly byte[] LapsedFrame = ServerFrames.Error(
        ErrorCode.Unavailable, "this server lost its hold on your login for a while: log in again", null);

    private readonly Guid _origin = Guid.NewGuid();
    private readonly ConcurrentDictionary<Topic, Task<ChannelMessageQueue>> _queues = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _refreshGate = new();
    private Task _refresh = Task.CompletedTask;
    private Task _liveness = Task.CompletedTask;

    /// <summary>
    /// While a refresh is on its way: the sessions that ended meanwhile, each with its release. The refresh puts back the
    /// claims of the sessions it read as here, so it may put back one released after it read it; see <see cref="RefreshAsync"/>.
    /// </summary>
    private List<(UserSession User, Task<(bool Removed, bool Gone)> Release)>? _endedInRefresh;

    /// <summary>Stopwatch time at which the last successful liveness renewal was sent.</summary>
    private long _renewedAt = Stopwatch.GetTimestamp();

    /// <summary>1 once the sessions were closed for the current lapse; back to 0 when a renewal ends it.</summary>
    private int _lapseHandled;

    public override int Subscriptions => UserCount + GroupCount;

    public override string BusState => redis.IsConnected ? "connected" : "disconnected";

    private ISubscriber Subscriber => redis.GetSubscriber();

    /// <summary><c>chat:user:{id}</c> or <c>chat:group:{id}</c>; a sharded channel on a Redis Cluster.</summary>
    public RedisChannel Channel(Topic topic) => topology.Channel(topic.IsGroup ? "group:" + topic.Id : "user:" + topic.Id);

    /// <summary>Users with a session here are online without asking Redis; only the others' claims are looked up.</summary>
    public override async Task<IReadOnlySet<int>> OnlineAsync(IReadOnlyCollection<int> userIds)
    {
        var online = userIds.Where(u => Find(u) is not null).ToHashSet();
        List<int> elsewhere = [.. userIds.Where(u => !online.Contains(u)).Distinct()];
        if (elsewhere.Count > 0)
        {
            online.UnionWith(await presence.OnlineAsync(elsewhere));
        }

        return online;
    }

    public override Task<IReadOnlyList<ReplicaUsers>> ReplicasAsync() => presence.ReplicasAsync();

    /// <summary><c>chat:presence</c>: every replica hears every presence change and tells the local sessions that watch the user.</summary>
    private RedisChannel PresenceChannel => topology.Channel("presence");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await KeepAliveAsync(); // before the first login: a claim of a replica not yet alive would be void
        await SubscribePresenceAsync();
        _liveness = KeepAliveLoopAsync(_stopping.Token);
        _refresh = RefreshPresenceAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_refresh, _liveness).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            // The drain (stopped before this service) released each user; whatever it could not is void now.
            await presence.EndLivenessAsync().WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            HubLog.LivenessFailed(log, ex);
        }
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>
    /// False, and every session here closed, once the last successful liveness renewal is older than the liveness
    /// TTL: the liveness key may have expired, other replicas have then taken this one's claims for void (and may have
    /// let the users log in there), and a session here must not be served again. Checked before each request, so a
    /// replica resumed after a pause closes its sessions before it reads their next frame.
    /// </summary>
    public override bool ClaimsHold
    {
        get
        {
            if (Stopwatch.GetElapsedTime(Volatile.Read(ref _renewedAt)) <= presenceOptions.Value.LivenessTtl)
            {
                return true;
            }

            CloseForLapse();
            return false;
        }
    }

    protected override async Task<Claim> ClaimAsync(UserSession user)
    {
        if (!ClaimsHold)
        {
            // A claim made while this replica counts as dead would be void: alive again first, or refused.
            await KeepAliveAsync();
            if (!ClaimsHold)
            {
                throw new TimeoutException("This replica could not renew its liveness in Redis.");
            }
        }

        return await presence.ClaimAsync(user.Id, user.SessionId, Devices);
    }

    protected override async Task<bool> UnclaimAsync(UserSession user)
    {
        var released = new TaskCompletionSource<(bool Removed, bool Gone)>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_refreshGate)
        {
            _endedInRefresh?.Add((user, released.Task)); // before the release is sent: it may reach Redis before the refresh
        }

        var release = await ReleaseClaimAsync(user);
        released.SetResult(release);
        return release.Gone;
    }

    private Task<(bool Removed, bool Gone)> ReleaseClaimAsync(UserSession user) =>
        presence.ReleaseAsync(user.Id, user.SessionId, lastHere: Find(user.Id) is null);

    /// <summary>
    /// A queue per channel, read by one loop: a channel's payloads are handed on one after another, in the order Redis
    /// sent them (a handler subscription would run them concurrently, and a fast sender's messages would overtake each
    /// other). Called under the hub's gate, as is <see cref="UnsubscribeAsync"/>, so the map sees them in order.
    /// </summary>
    protected override Task SubscribeAsync(Topic topic)
    {
        var subscribing = SubscribeQueueAsync(Channel(topic));
        _queues[topic] = subscribing;
        return subscribing;
    }

    private async Task<ChannelMessageQueue> SubscribeQueueAsync(RedisChannel channel)
    {
        var queue = await Subscriber.SubscribeAsync(channel);
        queue.OnMessage(OnMessage);
        return queue;
    }

    protected override async Task UnsubscribeAsync(Topic topic)
    {
        if (!_queues.TryRemove(topic, out var subscribing))
        {
            return;
        }

        try
        {
            await (await subscribing).UnsubscribeAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is away; the subscription dies with the connection or is dropped when it comes back.
            HubLog.UnsubscribeFailed(log, ex, Channel(topic).ToString());
        }
    }

    protected override void Publish(Delivery delivery)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = ChatTelemetry.Source.StartActivity(ChatTelemetry.BusPublish, ActivityKind.Producer);
        if (activity is not null)
        {
            Tag(activity, delivery);
        }

        if (Send(Channel(Topic.Of(delivery)), delivery, activity?.Context ?? default))
        {
            metrics.Published(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>One publish per change, whoever watches the user: a replica finds its watchers itself.</summary>
    protected override void PublishPresence(Delivery presence) => Send(PresenceChannel, presence, default);

    /// <summary>Publishes without waiting; false when Redis refused at once (a message is stored already: its recipient
    /// gets it at the next login; a presence change is lost, and the next one corrects it).</summary>
    private bool Send(RedisChannel channel, Delivery delivery, ActivityContext trace)
    {
        try
        {
            var envelope = new BusEnvelope(_origin, time.GetUtcNow().UtcTicks, trace);
            Subscriber.Publish(channel, BusPayload.Encode(delivery, envelope), CommandFlags.FireAndForget);
            return true;
        }
        catch (RedisException ex)
        {
            HubLog.PublishFailed(log, ex, channel.ToString());
            return false;
        }
    }

    private async Task SubscribePresenceAsync()
    {
        try
        {
            (await Subscriber.SubscribeAsync(PresenceChannel)).OnMessage(OnPresence); // in order: a user's online, then offline
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is away at start: presence pushes stay off until a restart (the rest reconnects by itself).
            HubLog.PresenceSubscribeFailed(log, ex);
        }
    }

    private void OnPresence(ChannelMessage message)
    {
        var (channel, value) = (message.Channel, message.Message);
        try
        {
            if (BusPayload.TryDecode((byte[]?)value ?? [], out var push, out var envelope) && envelope.Origin != _origin)
            {
                DeliverPresence(push);
            }
        }
        catch (Exception ex)
        {
            HubLog.DeliveryFailed(log, ex, channel.ToString());
        }
    }

    private void OnMessage(ChannelMessage message)
    {
        var (channel, value) = (message.Channel, message.Message);
        try
        {
            if (!BusPayload.TryDecode((byte[]?)value ?? [], out var delivery, out var envelope))
            {
                HubLog.UnknownPayload(log, channel.ToString());
                return;
            }

            // What this replica delivered here before publishing it comes back to it: delivered already.
            if (envelope.Origin == _origin && PublishedAfterDeliveryHere(delivery))
            {
                return;
            }

            if (envelope.PublishedAtTicks > 0)
            {
                metrics.DeliveredFromBus((time.GetUtcNow().UtcTicks - envelope.PublishedAtTicks) / (double)TimeSpan.TicksPerMillisecond);
            }

            using var activity = ChatTelemetry.Source.StartActivity(ChatTelemetry.BusDeliver, ActivityKind.Consumer, envelope.Trace);
            if (activity is not null)
            {
                Tag(activity, delivery);
            }

            DeliverHere(delivery);
        }
        catch (Exception ex)
        {
            HubLog.DeliveryFailed(log, ex, channel.ToString());
        }
    }

    /// <summary>Refreshes every local user's claim, a third of the TTL apart.</summary>
    private async Task RefreshPresenceAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(presenceOptions.Value.PresenceTtl / 3);
        while (await NextTickAsync(timer, ct))
        {
            await RefreshAsync(BeginRefresh());
        }
    }

    /// <summary>The sessions here now; from now until <see cref="RefreshAsync"/> ends, the sessions that end are noted.</summary>
    internal IReadOnlyList<UserSession> BeginRefresh()
    {
        lock (_refreshGate)
        {
            _endedInRefresh = [];
        }

        return [.. LocalSessions];
    }

    /// <summary>
    /// Renews the claims of <paramref name="sessions"/> (read by <see cref="BeginRefresh"/>). One of them that ended on the
    /// way may have been released before the refresh reached Redis, and its claim is back: it is released again, and
    /// when that leaves its user with no session and its first release had not (another session, since ended, still
    /// counted this one), the user's friends hear the user is offline now.
    /// </summary>
    internal async Task RefreshAsync(IReadOnlyList<UserSession> sessions)
    {
        try
        {
            await presence.RefreshAsync(sessions.Select(s => (s.Id, s.SessionId)));
            metrics.PresenceRefreshed(ok: true);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // SE.Redis reports a timeout as TimeoutException: the loop must outlive it too.
            metrics.PresenceRefreshed(ok: false);
            HubLog.RefreshFailed(log, ex);
        }

        List<(UserSession User, Task<(bool Removed, bool Gone)> Release)> ended;
        lock (_refreshGate)
        {
            (ended, _endedInRefresh) = (_endedInRefresh ?? [], null);
        }

        if (ended.Count == 0)
        {
            return;
        }

        var read = sessions.ToHashSet(); // a set: a replica holds thousands of sessions, and many may end in one refresh
        foreach (var (user, first) in ended.Where(e => read.Contains(e.User)))
        {
            var wasGone = (await first).Gone;
            var again = await ReleaseClaimAsync(user);
            if (again is { Removed: true, Gone: true } && !wasGone)
            {
                AnnouncePresence(user.Id, online: false);
            }
        }
    }

    /// <summary>Keeps this replica's liveness key, a third of its TTL apart.</summary>
    private async Task KeepAliveLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(presenceOptions.Value.LivenessTtl / 3);
        while (await NextTickAsync(timer, ct))
        {
            await KeepAliveAsync();
            await ReapAsync();
        }
    }

    /// <summary>The users of replicas that died went offline: their friends hear it (from whichever survivor swept).</summary>
    private async Task ReapAsync()
    {
        try
        {
            foreach (var userId in await presence.ReapAsync())
            {
                AnnouncePresence(userId, online: false);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            HubLog.ReapFailed(log, ex);
        }
    }

    /// <summary>
    /// Renews this replica's liveness key. When the renewal before it was sent longer than the TTL before this one came
    /// back, the key may have lapsed in between: the sessions here are closed before the renewal counts.
    /// </summary>
    private async Task KeepAliveAsync()
    {
        var sent = Stopwatch.GetTimestamp();
        try
        {
            await presence.KeepAliveAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            HubLog.LivenessFailed(log, ex);
            _ = ClaimsHold; // closes the sessions once the TTL has passed
            return;
        }

        if (Stopwatch.GetElapsedTime(Volatile.Read(ref _renewedAt)) > presenceOptions.Value.LivenessTtl)
        {
            CloseForLapse();
        }

        Volatile.Write(ref _renewedAt, sent);
        Volatile.Write(ref _lapseHandled, 0);
    }

    /// <summary>Closes every session here, once per lapse.</summary>
    private void CloseForLapse()
    {
        if (Interlocked.Exchange(ref _lapseHandled, 1) == 0)
        {
            HubLog.LivenessLapsed(log, UserCount);
            CloseAll(LapsedFrame);
        }
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Tag(Activity activity, Delivery delivery) => activity
        .SetTag(ChatTelemetry.ReplicaTag, options.Value.ReplicaId)
        .SetTag(ChatTelemetry.UserTag, delivery.SenderId)
        .SetTag(ChatTelemetry.TargetTag, delivery.TargetId)
        .SetTag(ChatTelemetry.ConversationTag, delivery.ConversationId)
        .SetTag(ChatTelemetry.SeqTag, delivery.Seq);
}
