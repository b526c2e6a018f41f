using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Server.Sessions;

namespace Chat.Server.Handlers;

public sealed class AddFriendHandler(IChatStore store, ChatHub hub) : UserRequestHandler<AddFriendRequest>
{
    protected override async ValueTask<Reply> HandleAsync(AddFriendRequest request, UserSession user, CancellationToken ct)
    {
        if (request.FriendId == user.Id)
        {
            return Reply.Fail(ErrorCode.BadRequest, "you cannot add yourself as a friend");
        }

        if (!await store.AddFriendAsync(user.Id, request.FriendId, ct))
        {
            return Reply.Fail(ErrorCode.NotFound, $"no user {request.FriendId}");
        }

        hub.Watch(user, [request.FriendId]); // PRESENCE of the new friend from now on
        return Reply.Ok;
    }
}

public sealed class CreateGroupHandler(IChatStore store, ChatHub hub) : UserRequestHandler<CreateGroupRequest>
{
    protected override async ValueTask<Reply> HandleAsync(CreateGroupRequest request, UserSession user, CancellationToken ct)
    {
        if ((Validation.GroupName(request.GroupName) ?? Validation.GroupDescription(request.GroupDesc)) is { } problem)
        {
            return Reply.Fail(ErrorCode.BadRequest, problem);
        }

        if (await store.CreateGroupAsync(user.Id, request.GroupName!, request.GroupDesc ?? "", request.Cid?.Text, ct) is not { } groupId)
        {
            return Reply.Fail(ErrorCode.Conflict, "groupname is taken");
        }

        if (!user.IsMember(groupId))
        {
            user.AddGroup(groupId, 0);
            await hub.JoinGroupAsync(groupId, user);
        }

        return new GroupCreated(groupId);
    }
}

public sealed class JoinGroupHandler(IChatStore store, ChatHub hub) : UserRequestHandler<JoinGroupRequest>
{
    protected override async ValueTask<Reply> HandleAsync(JoinGroupRequest request, UserSession user, CancellationToken ct)
    {
        var (result, startSeq) = await store.JoinGroupAsync(user.Id, request.GroupId, ct);
        if (result == JoinResult.NoSuchGroup)
        {
            return Reply.Fail(ErrorCode.NotFound, $"no group {request.GroupId}");
        }

        if (result == JoinResult.Joined)
        {
            user.AddGroup(request.GroupId, startSeq);
            await hub.JoinGroupAsync(request.GroupId, user);
        }

        return Reply.Ok;
    }
}
