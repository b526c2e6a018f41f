using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Files;
using Chat.Server.Hub;
using Chat.Server.Sessions;

namespace Chat.Server.Handlers;

/// <summary>
/// PROFILE (27): about (at most 140 characters) and avatar (an image the user uploaded; "" clears). The new profile is
/// pushed to the v2 sessions of everyone in a friendship with the user, either way, and to the user's other sessions.
/// </summary>
public sealed class ProfileHandler(IPeopleStore people, FileService files, ChatHub hub) : UserRequestHandler<ProfileRequest>
{
    protected override async ValueTask<Reply> HandleAsync(ProfileRequest request, UserSession user, CancellationToken ct)
    {
        if (request.About is { } about && (about.Length > PeopleRules.MaxAbout || !Validation.IsStorable(about)))
        {
            return Reply.Fail(ErrorCode.BadRequest, $"about must be at most {PeopleRules.MaxAbout} characters of text");
        }

        if (request.Avatar is { Length: > 0 } avatar)
        {
            if (await files.OwnedAsync(user.Id, avatar, ct) is not { ThumbType: not null })
            {
                return Reply.Fail(ErrorCode.NotFound, "avatar must be an image you uploaded");
            }

            await files.MarkSentAsync(avatar, ct); // an avatar is kept like a file sent
        }

        var profile = await people.SetProfileAsync(user.Id, user.Name, request.About, request.Avatar, ct);
        var frame = ServerFrames.Profile(user.Id, profile.About, profile.Avatar);
        foreach (var friend in await people.FriendsEitherWayAsync(user.Id, ct))
        {
            hub.Route(Delivery.PushToUser(user.Id, friend, frame));
        }

        hub.Route(Delivery.PushToUser(user.Id, user.Id, frame) with { ExceptSession = user.SessionId });
        return Reply.Ok;
    }
}

/// <summary>FIND (28): up to 20 users whose name starts with <c>q</c> (2–32 characters), ignoring case; 1 a second per user, bursts of 10 (errno 11).</summary>
public sealed class FindHandler(IPeopleStore people, FindLimiter limiter) : UserRequestHandler<FindRequest>
{
    protected override async ValueTask<Reply> HandleAsync(FindRequest request, UserSession user, CancellationToken ct)
    {
        if (request.Q.Length is < PeopleRules.MinQuery or > PeopleRules.MaxQuery || !Validation.IsStorable(request.Q))
        {
            return Reply.Fail(ErrorCode.BadRequest, $"q must be {PeopleRules.MinQuery} to {PeopleRules.MaxQuery} characters");
        }

        if (!limiter.TryPass(user.Id))
        {
            return Reply.Fail(ErrorCode.TooManyAttempts, "too many searches: at most one a second");
        }

        var found = await people.FindAsync(request.Q, PeopleRules.MaxFound, ct);
        return new UsersFound([.. found.Select(p => new FoundUser(p.Id, p.Name, p.About, p.Avatar))]);
    }
}

/// <summary>FIND's budget per user: a token bucket of 10, one back a second (idle buckets are dropped by the limiter).</summary>
public sealed class FindLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<int> _limiter = PartitionedRateLimiter.Create<int, int>(userId =>
        RateLimitPartition.GetTokenBucketLimiter(userId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 10,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public bool TryPass(int userId)
    {
        using var lease = _limiter.AttemptAcquire(userId);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}

/// <summary>
/// BLOCK (29): the blocked user's ONE_CHAT and ADD_FRIEND to the user get errno 13 and store nothing; the blocked user
/// gets no PRESENCE, TYPING or READ_NOTICE of the user. Groups are shared rooms and are not filtered.
/// </summary>
public sealed class BlockHandler(IPeopleStore people, BlockList blocks, ChatHub hub) : UserRequestHandler<BlockRequest>
{
    protected override async ValueTask<Reply> HandleAsync(BlockRequest request, UserSession user, CancellationToken ct)
    {
        if (request.UserId == user.Id)
        {
            return Reply.Fail(ErrorCode.BadRequest, "you cannot block yourself");
        }

        if (!await people.BlockAsync(user.Id, request.UserId, request.On, ct))
        {
            return Reply.Fail(ErrorCode.NotFound, $"no user {request.UserId}");
        }

        blocks.Changed(user.Id);
        if (request.On)
        {
            // The blocked user's sessions, on every replica, see this user offline and stop hearing their PRESENCE.
            hub.WithdrawPresence(user.Id, request.UserId);
        }

        return Reply.Ok;
    }
}

/// <summary>
/// Whom each user blocked, as this replica last read it: read from the store at most once per
/// <see cref="Ttl"/> per user, so a ONE_CHAT costs no query. A block made on this replica counts at once; one made
/// on another within <see cref="Ttl"/>.
/// </summary>
public sealed class BlockList(IServiceScopeFactory scopes, TimeProvider time)
{
    public const int Capacity = 100_000;
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<int, (IReadOnlySet<int> Blocked, long LoadedAt)> _byBlocker = new();

    /// <summary>Whether <paramref name="blocker"/> blocked <paramref name="other"/>.</summary>
    public async ValueTask<bool> HasBlockedAsync(int blocker, int other, CancellationToken ct)
    {
        var now = time.GetTimestamp();
        if (!_byBlocker.TryGetValue(blocker, out var entry) || time.GetElapsedTime(entry.LoadedAt, now) >= Ttl)
        {
            await using var scope = scopes.CreateAsyncScope();
            var blocked = await scope.ServiceProvider.GetRequiredService<IPeopleStore>().BlockedByAsync(blocker, ct);
            entry = (blocked.ToHashSet(), now);
            if (_byBlocker.Count >= Capacity)
            {
                _byBlocker.Clear();
            }

            _byBlocker[blocker] = entry;
        }

        return entry.Blocked.Contains(other);
    }

    /// <summary>The user blocked or unblocked someone here: read again at the next question.</summary>
    public void Changed(int blocker) => _byBlocker.TryRemove(blocker, out _);
}
