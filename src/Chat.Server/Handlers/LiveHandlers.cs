using System.Collections.Concurrent;
using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Server.Sessions;

namespace Chat.Server.Handlers;

/// <summary>
/// TYPING: relayed live, never stored, to the peer's v2 sessions (<c>peer</c> = the typist) or to the group's other
/// members (one publish). The peer must exist (as for ONE_CHAT: errno 6; a known id costs no query) and the user must be
/// in the group (errno 7, from the session's memory). At most one per second per user and conversation on this
/// replica: extras are dropped silently (answered like a relayed one).
/// </summary>
public sealed class TypingHandler(KnownUsers knownUsers, ChatHub hub, TypingLimiter limiter, BlockList blocks) : UserRequestHandler<TypingRequest>
{
    protected override async ValueTask<Reply> HandleAsync(TypingRequest request, UserSession user, CancellationToken ct)
    {
        if (request.GroupId is { } groupId)
        {
            if (!user.IsMember(groupId))
            {
                return Reply.Fail(ErrorCode.NotMember, $"you are not a member of group {groupId} (or it does not exist)");
            }

            if (limiter.TryPass(user.Id, ConversationId.Group(groupId)))
            {
                hub.Route(Delivery.PushToGroup(user.Id, groupId, ServerFrames.Typing(user.Id, user.Name, isGroup: true, groupId)));
            }

            return Reply.Ok;
        }

        var peer = request.Peer!.Value;
        if (peer == user.Id)
        {
            return Reply.Fail(ErrorCode.BadRequest, "peer must be another user");
        }

        if (!await knownUsers.ExistsAsync(peer, ct))
        {
            return Reply.Fail(ErrorCode.NotFound, $"no user {peer}");
        }

        // Nothing of a blocker reaches whom they blocked (answered as if relayed).
        if (!await blocks.HasBlockedAsync(user.Id, peer, ct) && limiter.TryPass(user.Id, ConversationId.Direct(user.Id, peer)))
        {
            hub.Route(Delivery.PushToUser(user.Id, peer, ServerFrames.Typing(user.Id, user.Name, isGroup: false, peer)));
        }

        return Reply.Ok;
    }
}

/// <summary>
/// One TYPING per <see cref="Interval"/> per user and conversation; the rest are dropped. Bounded: at
/// <see cref="Capacity"/> entries the expired ones go, and while it is still full nothing passes.
/// </summary>
public sealed class TypingLimiter(TimeProvider time)
{
    public const int Capacity = 100_000;
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<(int User, long Conversation), long> _last = new();

    public bool TryPass(int userId, long conversationId)
    {
        var now = time.GetTimestamp();
        var key = (userId, conversationId);
        if (_last.TryGetValue(key, out var last))
        {
            return Expired(last, now) && _last.TryUpdate(key, now, last);
        }

        if (_last.Count >= Capacity)
        {
            foreach (var entry in _last)
            {
                if (Expired(entry.Value, now))
                {
                    _last.TryRemove(entry);
                }
            }

            if (_last.Count >= Capacity)
            {
                return false;
            }
        }

        return _last.TryAdd(key, now);
    }

    private bool Expired(long last, long now) => time.GetElapsedTime(last, now) >= Interval;
}
