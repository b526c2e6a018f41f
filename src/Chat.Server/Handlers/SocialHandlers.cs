using Chat.Domain;
using Chat.Domain.Protocol;
using Chat.Server.Connections;
using Chat.Server.Protocol;

namespace Chat.Server.Handlers;

public sealed class AddFriendHandler(IChatStore store) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        var user = session.User!;
        if (request.FriendId is not { } friendId)
        {
            session.Fail(request, ErrorCode.BadRequest, "field 'friendid' is required");
        }
        else if (friendId == user.Id)
        {
            session.Fail(request, ErrorCode.BadRequest, "you cannot add yourself as a friend");
        }
        else if (!await store.AddFriendAsync(user.Id, friendId, ct))
        {
            session.Fail(request, ErrorCode.NotFound, $"no user {friendId}");
        }
        else
        {
            session.Done(request);
        }
    }
}

public sealed class CreateGroupHandler(IChatStore store, SessionStore sessions) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        var user = session.User!;
        if ((Validation.GroupName(request.GroupName) ?? Validation.GroupDescription(request.GroupDesc)) is { } problem)
        {
            session.Fail(request, ErrorCode.BadRequest, problem);
            return;
        }

        if (await store.CreateGroupAsync(user.Id, request.GroupName!, request.GroupDesc ?? "", request.Cid, ct) is not { } groupId)
        {
            session.Fail(request, ErrorCode.Conflict, "groupname is taken");
            return;
        }

        if (!user.IsMember(groupId))
        {
            user.AddGroup(groupId, 0);
            await sessions.JoinGroupAsync(groupId, session);
        }

        session.Done(request, w => w.WriteNumber("groupid"u8, groupId));
    }
}

public sealed class JoinGroupHandler(IChatStore store, SessionStore sessions) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        var user = session.User!;
        if (request.GroupId is not { } groupId)
        {
            session.Fail(request, ErrorCode.BadRequest, "field 'groupid' is required");
            return;
        }

        var (result, startSeq) = await store.JoinGroupAsync(user.Id, groupId, ct);
        if (result == JoinResult.NoSuchGroup)
        {
            session.Fail(request, ErrorCode.NotFound, $"no group {groupId}");
            return;
        }

        if (result == JoinResult.Joined)
        {
            user.AddGroup(groupId, startSeq);
            await sessions.JoinGroupAsync(groupId, session);
        }

        session.Done(request);
    }
}
