using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Server.Sessions;

namespace Chat.Server.Handlers;

/// <summary>
/// LEAVE_GROUP: the user no longer receives, sends or reads the group. Their sessions on this replica stop at once;
/// those on other replicas when the LEAVE_GROUP push reaches them (v2 ones also see it). The other members' v2
/// sessions get the same push.
/// </summary>
public sealed class LeaveGroupHandler(IChatStore store, ChatHub hub) : UserRequestHandler<LeaveGroupRequest>
{
    protected override async ValueTask<Reply> HandleAsync(LeaveGroupRequest request, UserSession user, CancellationToken ct)
    {
        if (await store.LeaveGroupAsync(user.Id, request.GroupId, ct) is not { } left)
        {
            return Conversation.NotMember(request.GroupId);
        }

        await hub.RemoveFromGroupAsync(user.Id, request.GroupId);
        var gone = ServerFrames.MemberGone(request.GroupId, user.Id, by: null, creator: left.Heir);
        hub.Route(Delivery.GroupLeftBy(user.Id, user.Id, request.GroupId, gone) with { ExceptSession = user.SessionId });
        hub.Route(Delivery.PushToGroup(user.Id, request.GroupId, gone));
        return Reply.Ok;
    }
}

/// <summary>
/// REMOVE_MEMBER: the group's creator takes a member out. The removed user's v2 sessions get
/// <c>{msgid:22, groupid, userid, by}</c>, and all of their sessions stop receiving the group, on whatever replica.
/// The other members' v2 sessions get the same push (the creator's too, but for the one that asked).
/// </summary>
public sealed class RemoveMemberHandler(IChatStore store, ChatHub hub) : UserRequestHandler<RemoveMemberRequest>
{
    protected override async ValueTask<Reply> HandleAsync(RemoveMemberRequest request, UserSession user, CancellationToken ct)
    {
        var (group, member) = (request.GroupId, request.UserId);
        switch (await store.RemoveMemberAsync(user.Id, group, member, ct))
        {
            case RemoveResult.NoSuchGroup:
                return Reply.Fail(ErrorCode.NotFound, $"no group {group}");
            case RemoveResult.NotMember:
                return Conversation.NotMember(group);
            case RemoveResult.NotAllowed:
                return Reply.Fail(ErrorCode.NotAllowed, member == user.Id
                    ? "the creator cannot be removed: LEAVE_GROUP passes the role on"
                    : $"only the creator of group {group} may remove members");
            case RemoveResult.NoSuchMember:
                return Reply.Fail(ErrorCode.NotMember, $"user {member} is not a member of group {group}");
        }

        await MemberRemoval.AnnounceAsync(hub, group, member, user.Id, user.SessionId);
        return Reply.Ok;
    }
}

/// <summary>After a member was removed from a group (by its creator, or by an operator).</summary>
public static class MemberRemoval
{
    /// <summary>
    /// The removed user's sessions stop receiving the group at once; they and the other members get REMOVE_MEMBER (22)
    /// naming <paramref name="by"/> (0: an operator), but the session that asked (<paramref name="exceptSession"/>), which has its ACK.
    /// </summary>
    public static async Task AnnounceAsync(ChatHub hub, int groupId, int userId, int by, long exceptSession)
    {
        await hub.RemoveFromGroupAsync(userId, groupId);
        var gone = ServerFrames.MemberGone(groupId, userId, by);
        hub.Route(Delivery.GroupLeftBy(by, userId, groupId, gone));
        // Sent as from the removed member, whose sessions the group route skips (they have theirs above).
        hub.Route(Delivery.PushToGroup(userId, groupId, gone) with { ExceptSession = exceptSession });
    }
}

public sealed class RemoveFriendHandler(IChatStore store, ChatHub hub) : UserRequestHandler<RemoveFriendRequest>
{
    protected override async ValueTask<Reply> HandleAsync(RemoveFriendRequest request, UserSession user, CancellationToken ct)
    {
        if (!await store.RemoveFriendAsync(user.Id, request.FriendId, ct))
        {
            return Reply.Fail(ErrorCode.NotFound, $"no user {request.FriendId}");
        }

        hub.Unwatch(user.Id, request.FriendId); // no PRESENCE of them from now on
        return Reply.Ok;
    }
}
