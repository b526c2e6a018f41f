using Chat.Domain;
using Chat.Domain.Protocol;
using Chat.Server.Connections;
using Chat.Server.Hosting;
using Chat.Server.Protocol;
using Chat.Server.Telemetry;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Chat.Server.Handlers;

public sealed class PingHandler : IRequestHandler
{
    public ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        session.Send(Frames.Pong(request.Cid));
        return ValueTask.CompletedTask;
    }
}

public sealed class RegisterHandler(IChatStore store, IPasswordHasher<UserAccount> hasher, LoginThrottle throttle) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        if (throttle.Refuse(session) is { } refused)
        {
            session.Send(Frames.RegAck(ErrorCode.TooManyAttempts, null, refused, request.Cid));
            return;
        }

        if ((Validation.UserName(request.Name) ?? Validation.Password(request.Password)) is { } problem)
        {
            session.Send(Frames.RegAck(ErrorCode.Invalid, null, problem, request.Cid));
            return;
        }

        // PBKDF2 takes milliseconds of CPU: off the socket's thread (Kestrel runs handlers inline, see AddChatServer).
        var hash = await Task.Run(() => hasher.HashPassword(new UserAccount(0, request.Name!, ""), request.Password!), ct);
        var id = await store.RegisterAsync(request.Name!, hash, ct);
        if (id is null)
        {
            throttle.Failed(session);
        }

        session.Send(id is null
            ? Frames.RegAck(ErrorCode.Invalid, null, "name is taken", request.Cid)
            : Frames.RegAck(ErrorCode.None, id, null, request.Cid));
    }
}

/// <summary>
/// LOGIN: checks the password, claims the user cluster-wide, subscribes to what the user will receive, then reads
/// what they missed, so a message stored at any moment of the login arrives either live or in LOGIN_ACK.
/// </summary>
public sealed class LoginHandler(
    LoginThrottle throttle,
    IChatStore store,
    IPasswordHasher<UserAccount> hasher,
    IPresence presence,
    Logins logins,
    SessionStore sessions,
    ChatMetrics metrics,
    IOptions<ChatServerOptions> options) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        if (request.Id is not { } id || request.Password is not { } password)
        {
            metrics.Login(LoginOutcome.Invalid);
            session.Send(Frames.LoginFailed(ErrorCode.Invalid, "LOGIN needs id and password", request.Cid));
            return;
        }

        if (session.User is not null)
        {
            metrics.Login(LoginOutcome.AlreadyOnline);
            session.Send(Frames.LoginFailed(ErrorCode.AlreadyOnline, "this connection is logged in already: send LOGINOUT first", request.Cid));
            return;
        }

        if (throttle.Refuse(session) is { } refused)
        {
            session.Send(Frames.LoginFailed(ErrorCode.TooManyAttempts, refused, request.Cid));
            return;
        }

        var account = await store.FindUserAsync(id, ct);
        if (account is null || await Task.Run(() => hasher.VerifyHashedPassword(account, account.PasswordHash, password), ct) == PasswordVerificationResult.Failed)
        {
            metrics.Login(LoginOutcome.Invalid);
            session.Send(Frames.LoginFailed(ErrorCode.Invalid, "id or password is invalid", request.Cid));
            throttle.Failed(session);
            return;
        }

        if (await logins.BeginAsync(session, account) is not { } user)
        {
            metrics.Login(LoginOutcome.AlreadyOnline);
            session.Send(Frames.LoginFailed(ErrorCode.AlreadyOnline, "this account is online already", request.Cid));
            return;
        }

        try
        {
            await AnswerAsync(session, user, request, ct);
            metrics.Login(LoginOutcome.Ok);
        }
        catch
        {
            await logins.EndAsync(session);
            throw;
        }
    }

    private async Task AnswerAsync(ChatSession session, UserSession user, Request request, CancellationToken ct)
    {
        var friends = await store.FriendsAsync(user.Id, ct);
        var groups = await store.GroupsAsync(user.Id, ct);
        foreach (var group in groups)
        {
            await sessions.JoinGroupAsync(group.Id, session);
        }

        var limit = options.Value.MaxOfflineMessages;
        var inbox = await store.LoadInboxAsync(user.Id, ResumeFrom(user.Id, request.Resume), limit, ct);
        foreach (var conversation in inbox.Conversations)
        {
            user.Start(conversation.ConversationId, conversation.Start);
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

        var people = friends.Select(f => f.Id).Concat(groups.SelectMany(g => g.Members.Select(m => m.Id))).ToHashSet();
        var online = await presence.OnlineAsync(people);
        var snapshot = new LoginSnapshot(user.Id, user.Name, friends, groups, online)
        {
            Conversations = inbox.Conversations,
            OfflineTruncated = inbox.Pending.Count >= limit,
        };
        var offline = inbox.Pending.Select(Frames.Chat).ToList();
        var ack = Frames.LoginOk(snapshot, offline, objects: request.V >= 2, request.Cid);
        session.CompleteLogin(user, ack, [.. inbox.Pending.Select(p => (p.Message.ConversationId, p.Seq))]);
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

public sealed class LogoutHandler(Logins logins) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        await logins.EndAsync(session);
        session.Done(request);
    }
}
