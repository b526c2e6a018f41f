using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Server.Sessions;
using Chat.Server.Transport;
using Microsoft.Extensions.Options;

namespace Chat.Server.Handlers;

/// <summary>
/// HISTORY: a page of one conversation, oldest first, read by seq through the messages' primary key. A page is bounded
/// in bytes as LOGIN_ACK is: when the newest <c>limit</c> messages would not fit, the oldest of them are left for the
/// next page (<c>more</c>), so a page never trips the connection's outgoing budget.
/// </summary>
public sealed class HistoryHandler(
    IChatStore store,
    KnownUsers knownUsers,
    IOptions<LoginOptions> login,
    IOptions<ConnectionOptions> connection) : UserRequestHandler<HistoryRequest>
{
    protected override async ValueTask<Reply> HandleAsync(HistoryRequest request, UserSession user, CancellationToken ct)
    {
        var (conversation, refusal) = await Conversation.ResolveAsync(knownUsers, user, request.Peer, request.GroupId, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        if (await store.HistoryAsync(user.Id, conversation, request.Before, request.Limit, ct) is not { } page)
        {
            return Conversation.NotMember(request.GroupId!.Value);
        }

        var frames = page.Messages.Select(m => Delivery.Of(m).Frame).ToList();
        var room = Math.Min(login.Value.MaxLoginAckBytes, connection.Value.OutboundQueueBytes / 2) - 4096L;
        var fit = 0;
        while (fit < frames.Count && (room -= frames[^(fit + 1)].Length) >= 0)
        {
            fit++;
        }

        var more = page.More || fit < frames.Count;
        return new HistoryPage(request.Peer, request.GroupId, frames[^fit..], more) { Start = more ? null : page.Start };
    }
}

/// <summary>
/// READ: moves the user's read mark forward, clamped to the conversation's newest seq, in the batched
/// <see cref="IReadMarkWriter"/> (no database write per READ). When the mark moved, READ_NOTICE goes to the other user's
/// v2 sessions (one-to-one) and to the reader's own other sessions, wherever they are.
/// </summary>
public sealed class ReadHandler(IChatStore store, KnownUsers knownUsers, IReadMarkWriter marks, ChatHub hub, BlockList blocks) : UserRequestHandler<ReadRequest>
{
    protected override async ValueTask<Reply> HandleAsync(ReadRequest request, UserSession user, CancellationToken ct)
    {
        var (conversation, refusal) = await Conversation.ResolveAsync(knownUsers, user, request.Peer, request.GroupId, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var seq = Math.Min(request.Seq, await store.NewestSeqAsync(conversation, ct));
        if (seq <= 0 || !user.Reads.TryMove(conversation, seq))
        {
            return Reply.Ok;
        }

        marks.Advance(user.Id, conversation, seq);
        if (request.Peer is { } peer && !await blocks.HasBlockedAsync(user.Id, peer, ct))
        {
            hub.Route(Delivery.PushToUser(user.Id, peer, ServerFrames.ReadNotice(user.Id, user.Id, null, seq)));
        }

        var mine = ServerFrames.ReadNotice(user.Id, request.Peer, request.GroupId, seq);
        hub.Route(Delivery.PushToUser(user.Id, user.Id, mine) with { ExceptSession = user.SessionId });
        return Reply.Ok;
    }
}

/// <summary>The conversation a request names by <c>peer</c> or <c>groupid</c>, when it can be the user's.</summary>
internal static class Conversation
{
    public static Reply NotMember(int groupId) =>
        Reply.Fail(ErrorCode.NotMember, $"you are not a member of group {groupId} (or it does not exist)");

    /// <returns>The conversation id, or the reply refusing the request.</returns>
    public static async ValueTask<(long Id, Reply? Refusal)> ResolveAsync(KnownUsers knownUsers, UserSession user, int? peer, int? groupId, CancellationToken ct)
    {
        if (groupId is { } group)
        {
            return user.IsMember(group) ? (ConversationId.Group(group), null) : (0, NotMember(group));
        }

        var other = peer!.Value;
        if (other == user.Id)
        {
            return (0, Reply.Fail(ErrorCode.BadRequest, "there is no conversation with yourself"));
        }

        return await knownUsers.ExistsAsync(other, ct)
            ? (ConversationId.Direct(user.Id, other), null)
            : (0, Reply.Fail(ErrorCode.NotFound, $"no user {other}"));
    }
}
