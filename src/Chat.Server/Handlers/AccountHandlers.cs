using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Telemetry;
using Chat.Server.Transport;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Chat.Server.Handlers;

public sealed class PingHandler : RequestHandler<PingRequest>
{
    private static readonly Reply Pong = new Pong();

    protected override ValueTask<Reply> HandleAsync(PingRequest request, RequestContext context, CancellationToken ct) => ValueTask.FromResult(Pong);
}

public sealed class RegisterHandler(IChatStore store, IPasswordHasher<UserAccount> hasher, LoginThrottle throttle, PasswordWork passwords, IOptions<LoginOptions> options)
    : RequestHandler<RegisterRequest>
{
    protected override async ValueTask<Reply> HandleAsync(RegisterRequest request, RequestContext context, CancellationToken ct)
    {
        if (await throttle.RefuseAsync(context, LoginAttempt.Register, ct) is { } refused)
        {
            return Reply.Fail(ErrorCode.TooManyAttempts, refused);
        }

        if ((Validation.UserName(request.Name) ?? Validation.Password(request.Password, options.Value.MinPasswordLength)) is { } problem)
        {
            return Reply.Fail(ErrorCode.Invalid, problem);
        }

        var hashed = await passwords.RunForAsync(context.Connection, () => hasher.HashPassword(new UserAccount(0, request.Name!, ""), request.Password!));
        if (hashed.Refusal is { } busy)
        {
            return busy;
        }

        if (await store.RegisterAsync(request.Name!, hashed.Value!, ct) is not { } id)
        {
            throttle.Failed(context);
            return Reply.Fail(ErrorCode.Invalid, "name is taken");
        }

        return new Registered(id);
    }
}

/// <summary>
/// LOGIN: checks the password (on a <see cref="PasswordWork"/> thread) or the session token (a hash and an indexed
/// read), claims the user cluster-wide, subscribes to what the user will receive, then reads what they missed, so a
/// message stored at any moment of the login arrives either live or in LOGIN_ACK. A v2 LOGIN_ACK carries a session
/// token: the one the login used, or a new one after a password.
/// </summary>
public sealed class LoginHandler(
    LoginThrottle throttle,
    IChatStore store,
    ISessionTokenStore tokens,
    IAdminStore admin,
    IPasswordHasher<UserAccount> hasher,
    PasswordWork passwords,
    LoginGate gate,
    LoginLifecycle logins,
    ChatHub hub,
    ChatMetrics metrics,
    TimeProvider time,
    IOptions<LoginOptions> options,
    IOptions<ConnectionOptions> connection,
    ConnectionRegistry connections,
    IPeopleStore peopleStore) : RequestHandler<LoginRequest>
{
    private static readonly Reply Sent = new AlreadySent();

    protected override async ValueTask<Reply> HandleAsync(LoginRequest request, RequestContext context, CancellationToken ct)
    {
        if (context.User is not null)
        {
            metrics.Login(LoginOutcome.AlreadyOnline);
            return Reply.Fail(ErrorCode.AlreadyOnline, "this connection is logged in already: send LOGINOUT first");
        }

        // Work queued for this login is not thrown away by the login deadline or the anonymous cap while it runs.
        connections.LoginStarted(context.Connection);
        try
        {
            return await LogInAsync(request, context, ct);
        }
        finally
        {
            connections.LoginEnded(context.Connection);
        }
    }

    private async ValueTask<Reply> LogInAsync(LoginRequest request, RequestContext context, CancellationToken ct)
    {

        var byToken = request.Password is null;
        if (await throttle.RefuseAsync(context, byToken ? LoginAttempt.Token : LoginAttempt.Password, ct) is { } refused)
        {
            metrics.Login(LoginOutcome.Throttled);
            return Reply.Fail(ErrorCode.TooManyAttempts, refused);
        }

        var (account, busy) = byToken ? (await ByTokenAsync(request.Id, request.Token!, ct), null) : await ByPasswordAsync(request, context, ct);
        if (busy is not null)
        {
            metrics.Login(LoginOutcome.Busy);
            return busy;
        }

        if (account is null)
        {
            metrics.Login(LoginOutcome.Invalid);
            throttle.Failed(context);
            return Reply.Fail(ErrorCode.Invalid, byToken ? "id or token is invalid" : "id or password is invalid");
        }

        // A token proves there is no ban: a ban revokes every token of the user, and none is issued while it lasts.
        if (!byToken && await admin.BanAsync(account.Id, time.GetUtcNow(), ct) is { } ban)
        {
            metrics.Login(LoginOutcome.Banned);
            return Reply.Fail(ErrorCode.NotAllowed, ban.Refusal);
        }

        using var slot = await gate.EnterAsync(ct);
        if (slot is null)
        {
            metrics.Login(LoginOutcome.Busy);
            return PasswordWorkExtensions.Busy;
        }

        if (await logins.BeginAsync(context, account, v2: request.Version >= 2) is not { } user)
        {
            metrics.Login(LoginOutcome.AlreadyOnline);
            return Reply.Fail(ErrorCode.AlreadyOnline, "this account is online already");
        }

        try
        {
            var token = request.Version < 2 ? null : byToken ? request.Token : await IssueTokenAsync(user.Id, ct);
            await AnswerAsync(user, request, token, ct);
            metrics.Login(LoginOutcome.Ok);
            return Sent;
        }
        catch
        {
            await logins.EndAsync(context);
            throw;
        }
    }

    /// <summary>The account, when <paramref name="token"/> is a live token of user <paramref name="id"/>.</summary>
    private async Task<UserAccount?> ByTokenAsync(int id, string token, CancellationToken ct)
    {
        if (token.Length > SessionToken.MaxLength || await tokens.FindUserAsync(SessionToken.Hash(token), time.GetUtcNow(), ct) != id)
        {
            return null;
        }

        return await store.FindUserAsync(id, ct);
    }

    /// <summary>
    /// The account, when the password is right; or why the password could not be checked. It is checked even when the
    /// account turns out to be online: answering "online" (errno 2) first would tell anyone who knows an id whether that
    /// user is online, which only friends may see. (Token logins make that refusal cheap.)
    /// </summary>
    private async Task<(UserAccount? Account, Reply? Busy)> ByPasswordAsync(LoginRequest request, RequestContext context, CancellationToken ct)
    {
        if (passwords.Full)
        {
            // Before the database too: in a storm, a refusal must cost next to nothing.
            return (null, PasswordWorkExtensions.Busy);
        }

        if (await store.FindUserAsync(request.Id, ct) is not { } account)
        {
            return (null, null);
        }

        var check = await passwords.RunForAsync(
            context.Connection, () => hasher.VerifyHashedPassword(account, account.PasswordHash, request.Password!) != PasswordVerificationResult.Failed);
        return (check.Value ? account : null, check.Refusal);
    }

    private async Task<string> IssueTokenAsync(int userId, CancellationToken ct)
    {
        var token = SessionToken.New();
        await tokens.AddAsync(userId, SessionToken.Hash(token), time.GetUtcNow() + options.Value.TokenLifetime, ct);
        return token;
    }

    private async Task AnswerAsync(UserSession user, LoginRequest request, string? token, CancellationToken ct)
    {
        var friends = await store.FriendsAsync(user.Id, ct);
        var groups = await store.GroupsAsync(user.Id, ct);
        foreach (var group in groups)
        {
            await hub.JoinGroupAsync(group.Id, user);
        }

        var limit = options.Value.MaxOfflineMessages;
        var inbox = await store.LoadInboxAsync(user.Id, ResumeFrom(user.Id, request.Resume), limit, ct);
        foreach (var conversation in inbox.Conversations)
        {
            user.Start(conversation.ConversationId, conversation.Start, conversation.LastSeq);
            user.Reads.Set(conversation.ConversationId, conversation.Read);
            if (conversation.Start > conversation.Cursor)
            {
                // The client has seen further than the cursor got (it moves after the fact): catch it up.
                user.Seen(conversation.ConversationId, conversation.Start);
            }
        }

        var starts = inbox.Conversations.ToDictionary(c => c.ConversationId, c => c.Start);
        foreach (var group in groups)
        {
            user.AddGroup(group.Id, starts.GetValueOrDefault(ConversationId.Group(group.Id)));
        }

        // A friend who blocked this user is shown offline and sends no PRESENCE (BLOCK).
        var blocks = await peopleStore.BlocksAsync(user.Id, ct);
        var blockers = blocks.Blockers.ToHashSet();
        hub.Watch(user, [.. friends.Select(f => f.Id).Where(id => !blockers.Contains(id))]);
        var people = friends.Select(f => f.Id).Concat(groups.SelectMany(g => g.Members.Select(m => m.Id))).ToHashSet();
        var online = (await hub.OnlineAsync(people)).Where(id => !blockers.Contains(id)).ToHashSet();
        var v2 = request.Version >= 2;
        var profiles = v2 ? await peopleStore.ProfilesAsync(people, ct) : new Dictionary<int, Profile>();
        var blocked = v2 ? blocks.Blocked : [];

        // LOGIN_ACK takes the oldest offline messages while they fit; the rest follow it.
        var window = Math.Min(options.Value.MaxLoginAckBytes, connection.Value.OutboundQueueBytes / 2);
        var offline = inbox.Pending.Select(Delivery.Of).ToList();
        var room = window - 4096L; // what LOGIN_ACK holds besides the messages stays small next to the window
        // A seed client gets messages only, as they stand (no events, no recalled ones; a file as text): their seqs are passed all the same.
        bool Shows(Delivery d) => v2 || d.ForSeed;
        ReadOnlyMemory<byte> Shown(Delivery d) => v2 ? d.Frame : d.SeedFrame;
        var inAck = offline.TakeWhile(d => !Shows(d) || (room -= Shown(d).Length) >= 0).ToList();
        var ack = new LoginAck(
            user.Id,
            user.Name,
            [.. friends.Select(f => Entries.WithProfile(Entries.Friend(f, online), v2, profiles))],
            [.. groups.Select(g => Entries.WithProfiles(Entries.Group(g, online), v2, profiles))],
            [.. inAck.Where(Shows).Select(Shown)],
            [.. inbox.Conversations.Select(c => ConversationId.IsGroup(c.ConversationId)
                ? new ConversationEntry(null, (int)c.ConversationId, c.LastSeq, c.Read, c.Unread)
                : new ConversationEntry(ConversationId.Peer(c.ConversationId, user.Id), null, c.LastSeq, c.Read, c.Unread))],
            More: inbox.Pending.Count >= limit || inAck.Count < offline.Count,
            Token: token)
        {
            Blocked = blocked,
        };
        var frame = ServerFrames.LoginOk(ack, objects: request.Version >= 2, request.Cid);
        _ = user.CompleteLoginAsync(frame, [.. inAck.Select(d => (d.ConversationId, d.Seq))], offline[inAck.Count..], window);
    }

    private static Dictionary<long, long> ResumeFrom(int userId, IReadOnlyList<ResumePoint>? points)
    {
        var resume = new Dictionary<long, long>();
        foreach (var point in points ?? [])
        {
            var conversation = point.GroupId is { } group ? ConversationId.Group(group) : ConversationId.Direct(userId, point.Peer!.Value);
            resume[conversation] = point.Seq;
        }

        return resume;
    }
}

/// <summary>LOGINOUT: ends the login; with <c>"all":true</c> it first revokes every session token of the user.</summary>
public sealed class LogoutHandler(LoginLifecycle logins, ISessionTokenStore tokens) : RequestHandler<LogoutRequest>
{
    protected override async ValueTask<Reply> HandleAsync(LogoutRequest request, RequestContext context, CancellationToken ct)
    {
        if (request.All && context.User is { } user)
        {
            await tokens.RevokeAllAsync(user.Id, ct);
        }

        await logins.LogOutAsync(context);
        return Reply.Ok;
    }
}

/// <summary>Password work for one connection's request, answered as the request is when it cannot run.</summary>
public static class PasswordWorkExtensions
{
    public static readonly Reply Busy = Reply.Fail(ErrorCode.Unavailable, "the server is busy with logins: retry in a moment");

    private static readonly Reply Gone = Reply.Fail(ErrorCode.Unavailable, "the connection closed before the password was checked");

    /// <summary>
    /// <paramref name="work"/> on a password worker: its value, or the refusal to answer with — errno 10 when the queue
    /// is full, or when the client left before a worker reached it (nobody reads that answer).
    /// </summary>
    public static async Task<(T? Value, Reply? Refusal)> RunForAsync<T>(this PasswordWork passwords, ChatConnection connection, Func<T> work)
    {
        if (passwords.TryRun(work, () => connection.ClientGone) is not { } running)
        {
            return (default, Busy);
        }

        try
        {
            return (await running, null);
        }
        catch (OperationCanceledException)
        {
            return (default, Gone);
        }
    }
}
