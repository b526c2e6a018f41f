using Chat.Domain;
using Chat.Domain.Protocol;
using Chat.Server.Connections;
using Chat.Server.Protocol;
using Chat.Server.Routing;

namespace Chat.Server.Handlers;

public sealed class OneChatHandler(KnownUsers knownUsers, ChatSender sender) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        var user = session.User!;
        if (request.ToId is not { } toId || request.Msg is null)
        {
            session.Fail(request, ErrorCode.BadRequest, "ONE_CHAT needs toid and msg");
            return;
        }

        if (Validation.ChatMessage(request.Msg, request.Time) is { } problem)
        {
            session.Fail(request, ErrorCode.BadRequest, problem);
            return;
        }

        if (!await knownUsers.ExistsAsync(toId, ct))
        {
            session.Fail(request, ErrorCode.NotFound, $"no user {toId}");
            return;
        }

        sender.Send(session, user, request, ConversationId.Direct(user.Id, toId), toId);
    }
}

public sealed class GroupChatHandler(ChatSender sender) : IRequestHandler
{
    public ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        var user = session.User!;
        if (request.GroupId is not { } groupId || request.Msg is null)
        {
            session.Fail(request, ErrorCode.BadRequest, "GROUP_CHAT needs groupid and msg");
        }
        else if (Validation.ChatMessage(request.Msg, request.Time) is { } problem)
        {
            session.Fail(request, ErrorCode.BadRequest, problem);
        }
        else if (!user.IsMember(groupId))
        {
            session.Fail(request, ErrorCode.NotMember, $"you are not a member of group {groupId} (or it does not exist)");
        }
        else
        {
            sender.Send(session, user, request, ConversationId.Group(groupId), groupId);
        }

        return ValueTask.CompletedTask;
    }
}
