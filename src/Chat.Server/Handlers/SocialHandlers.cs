using Chat.Domain;
using Chat.Protocol;
using Chat.Server.Hub;
using Chat.Server.Sessions;

namespace Chat.Server.Handlers;

/// <summary>Friends and groups as LOGIN_ACK lists them, and as the ACKs of ADD_FRIEND and ADD_GROUP carry them.</summary>
public static class Entries
{
    public static UserEntry Friend(FriendInfo friend, IReadOnlySet<int> online) => new(friend.Id, friend.Name, online.Contains(friend.Id));

    public static GroupEntry Group(GroupInfo group, IReadOnlySet<int> online) =>
        new(group.Id, group.Name, group.Description, [.. group.Members.Select(m => Member(m, online.Contains(m.Id)))]);

    public static UserEntry Member(GroupMemberInfo member, bool online) => new(member.Id, member.Name, online, member.Role == GroupRole.Creator);

    /// <summary>A v2 entry carries the user's about and avatar ("" for none); a seed entry stays as the seed knows it.</summary>
    public static UserEntry WithProfile(UserEntry entry, bool v2, IReadOnlyDictionary<int, Profile> profiles) =>
        !v2 ? entry
        : profiles.TryGetValue(entry.Id, out var p) ? entry with { About = p.About, Avatar = p.Avatar }
        : entry with { About = "", Avatar = "" };

    /// <summary>A group whose v2 member entries carry about and avatar.</summary>
    public static GroupEntry WithProfiles(GroupEntry group, bool v2, IReadOnlyDictionary<int, Profile> profiles) =>
        v2 ? group with { Users = [.. group.Users.Select(u => WithProfile(u, v2, profiles))] } : group;
}

public sealed class AddFriendHandler(IChatStore store, ChatHub hub, BlockList blocks) : UserRequestHandler<AddFriendRequest>
{
    protected override async ValueTask<Reply> HandleAsync(AddFriendRequest request, UserSession user, CancellationToken ct)
    {
        if (request.FriendId == user.Id)
        {
            return Reply.Fail(ErrorCode.BadRequest, "you cannot add yourself as a friend");
        }

        if (await blocks.HasBlockedAsync(request.FriendId, user.Id, ct))
        {
            return Reply.Fail(ErrorCode.NotAllowed, $"user {request.FriendId} does not take your requests");
        }

        if (!await store.AddFriendAsync(user.Id, request.FriendId, ct))
        {
            return Reply.Fail(ErrorCode.NotFound, $"no user {request.FriendId}");
        }

        hub.Watch(user, [request.FriendId]); // PRESENCE of the new friend from now on; before reading the state, so no change falls between
        if (request.Cid is null || await store.FindUserAsync(request.FriendId, ct) is not { } friend)
        {
            return Reply.Ok; // the seed's way: no answer to carry the entry
        }

        return new FriendAdded(Entries.Friend(new FriendInfo(friend.Id, friend.Name), await hub.OnlineAsync([friend.Id])));
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

        if (!user.IsMember(request.GroupId))
        {
            // Joined now, or earlier on another device of the user's (several logins allowed): this one takes part too.
            user.AddGroup(request.GroupId, startSeq);
            await hub.JoinGroupAsync(request.GroupId, user);
        }

        // The group as the member's next LOGIN_ACK would list it (missing only when another session of the user left it
        // meanwhile): the newcomer for the other members, the whole entry for the ACK.
        if ((request.Cid is null && result != JoinResult.Joined) || await store.GroupAsync(user.Id, request.GroupId, ct) is not { } group)
        {
            return Reply.Ok;
        }

        if (result == JoinResult.Joined)
        {
            // The other members' v2 sessions see the newcomer at once (a push's sender is the member it is about).
            var joined = ServerFrames.MemberJoined(group.Id, Entries.Member(group.Members.Single(m => m.Id == user.Id), online: true));
            hub.Route(Delivery.PushToGroup(user.Id, group.Id, joined));
        }

        return request.Cid is null
            ? Reply.Ok // the seed's way: no answer to carry the entry
            : new GroupJoined(Entries.Group(group, await hub.OnlineAsync([.. group.Members.Select(m => m.Id)])));
    }
}
