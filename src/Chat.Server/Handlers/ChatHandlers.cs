using Chat.Domain;
using Chat.Domain.Protocol;
using Chat.Server.Connections;
using Chat.Server.Hosting;
using Chat.Server.Protocol;
using Chat.Server.Routing;
using Microsoft.Extensions.Options;

namespace Chat.Server.Handlers;

public sealed class OneChatHandler(KnownUsers knownUsers, ChatSender sender, IOptions<ChatServerOptions> options) : IRequestHandler
{
    public async ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        var user = session.User!;
        if (request.ToId is not { } toId || request.Msg is null)
        {
            session.Fail(request, ErrorCode.BadRequest, "ONE_CHAT needs toid and msg");
            return;
        }

        if (ChatText.Problem(request.Msg, request.Time, options.Value.MaxMessageChars) is { } problem)
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

public sealed class GroupChatHandler(ChatSender sender, IOptions<ChatServerOptions> options) : IRequestHandler
{
    public ValueTask HandleAsync(ChatSession session, Request request, CancellationToken ct)
    {
        var user = session.User!;
        if (request.GroupId is not { } groupId || request.Msg is null)
        {
            session.Fail(request, ErrorCode.BadRequest, "GROUP_CHAT needs groupid and msg");
        }
        else if (ChatText.Problem(request.Msg, request.Time, options.Value.MaxMessageChars) is { } problem)
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

internal static class ChatText
{
    public static string? Problem(string text, string? clientTime, int maxChars) =>
        text.Length > maxChars ? $"msg must be at most {maxChars} characters" : Validation.ChatMessage(text, clientTime);
}
