using System.Globalization;
using Chat.Protocol;

namespace Chat.Client;

/// <summary>Turns server frames into the lines the user reads, in the seed client's wording.</summary>
public static class Format
{
    private const string Rule = "======================================================";

    /// <summary><c>time [id] name said: msg</c>, prefixed with <c>group message[groupid]: </c> for a group.</summary>
    public static string Chat(in ChatPush chat)
    {
        var body = chat.File is { } file ? $"{chat.Msg} [file: {file.Name}, {file.Size} bytes, get-file:{file.Id}]".TrimStart() : chat.Msg;
        var text = chat.Recalled ? "(message recalled)" : chat.Edited is null ? body : $"{body} (edited)";
        var quote = chat.Reply is not { } q ? "" : q.Recalled ? $"(re seq {q.Seq}: message recalled) " : $"(re seq {q.Seq} [{q.Id}] {q.Name}: {q.Msg}) ";
        var reactions = chat.Reactions is { Count: > 0 } r ? " " + string.Join(" ", r.Select(e => $"{e.Emoji}{e.Ids.Count}")) : "";
        var line = $"{chat.Time} [{chat.SenderId}] {chat.SenderName} said: {quote}{text}{reactions}";
        return chat.IsGroup ? $"group message[{chat.TargetId}]: {line}" : line;
    }

    /// <summary>EDIT, RECALL or REACT as a line: who changed which message (by seq) and how.</summary>
    public static string Event(in EventPush e)
    {
        var where = e.IsGroup ? $"group message[{e.TargetId}]: " : "";
        return e.Kind switch
        {
            MsgId.Edit => $"{where}[{e.SenderId}] {e.SenderName} edited seq {e.Ref}: {e.Msg}",
            MsgId.Recall => $"{where}[{e.SenderId}] recalled seq {e.Ref} (message recalled)",
            _ when e.On => $"{where}[{e.SenderId}] {e.SenderName} reacted {e.Msg} to seq {e.Ref}",
            _ => $"{where}[{e.SenderId}] {e.SenderName} took back {e.Msg} on seq {e.Ref}",
        };
    }

    public static string Error(Answer answer) => $"error {(int)answer.Errno}: {answer.ErrMsg}";

    /// <summary>The logged-in user, their friends and their groups with members, from a LOGIN_ACK.</summary>
    public static IEnumerable<string> LoginSummary(LoginAckMessage ack)
    {
        yield return "======================login user======================";
        yield return $"current login user => id:{ack.Id} name:{ack.Name}";
        yield return "----------------------friend list---------------------";
        foreach (var friend in ack.Friends)
        {
            yield return $"{friend.Id} {friend.Name} {State(friend)}";
        }

        yield return "----------------------group list----------------------";
        foreach (var group in ack.Groups)
        {
            yield return $"{group.Id} {group.Name} {group.Description}";
            foreach (var user in group.Users)
            {
                yield return $"    {user.Id} {user.Name} {State(user)} {Role(user)}";
            }
        }

        yield return Rule;
    }

    /// <summary><c>[id] name is typing…</c>, prefixed like a group message when it is in a group.</summary>
    public static string Typing(TypingMessage typing)
    {
        var line = $"[{typing.Id}] {typing.Name} is typing...";
        return typing.GroupId is { } group ? $"group message[{group}]: {line}" : line;
    }

    /// <summary><c>friend [id] is online</c> (or offline).</summary>
    public static string Presence(PresenceMessage presence) =>
        $"friend [{presence.Id}] is {(presence.Online ? Field.Online : Field.Offline).Value}";

    /// <summary>The conversations with messages from others after the user's read mark (v2 LOGIN_ACK <c>convs</c>).</summary>
    public static IEnumerable<string> Unread(LoginAckMessage ack)
    {
        var unread = ack.Conversations.Where(c => c.Unread > 0).ToList();
        if (unread.Count == 0)
        {
            yield break;
        }

        yield return "----------------------unread--------------------------";
        foreach (var c in unread)
        {
            yield return $"{Name(c.Peer, c.GroupId)}: {c.Unread} unread (read up to seq {c.Read} of {c.Seq})";
        }

        yield return Rule;
    }

    /// <summary>A HISTORY_ACK: its messages oldest first, then how to page further back.</summary>
    public static IEnumerable<string> History(HistoryAckMessage page)
    {
        var command = page.GroupId is { } group ? $"grouphistory:{group}" : $"history:{page.Peer}";
        yield return $"----------------------history of {Name(page.Peer, page.GroupId)}----------------------";
        foreach (var message in page.Messages)
        {
            yield return $"{Chat(message.Push)} (seq {message.Push.Seq})";
        }

        yield return page.More && page.Messages.Count > 0
            ? $"older messages: {command}:{page.Messages[0].Push.Seq}"
            : "(the beginning of the conversation)";
    }

    /// <summary>READ_NOTICE: the other user read what you sent, or you read a conversation on another device.</summary>
    public static string ReadNotice(ReadNoticeMessage notice, int me) => notice.Id == me
        ? $"read on another device: {Name(notice.Peer, notice.GroupId)} up to seq {notice.Seq}"
        : $"[{notice.Id}] read your messages up to seq {notice.Seq}";

    /// <summary>REMOVE_MEMBER (22) or LEAVE_GROUP (21): about you (<paramref name="me"/>), or another member of the group.</summary>
    public static string MemberGone(MemberGoneMessage gone, int me) => (gone.UserId == me, gone.By) switch
    {
        (true, { } by) => $"you were removed from group {gone.GroupId} by [{by}]",
        (true, null) => $"you left group {gone.GroupId} on another device",
        (false, { } by) => $"[{gone.UserId}] was removed from group {gone.GroupId} by [{by}]",
        (false, null) => $"[{gone.UserId}] left group {gone.GroupId}",
    };

    /// <summary>ADD_GROUP (9) pushed: another user joined one of your groups.</summary>
    public static string MemberJoined(MemberJoinedMessage joined) =>
        $"[{joined.Member.Id}] {joined.Member.Name} joined group {joined.GroupId}";

    /// <summary>The local time as chat frames carry it.</summary>
    public static string Now(TimeProvider clock) =>
        clock.GetLocalNow().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Name(int? peer, int? groupId) => groupId is { } group ? $"group {group}" : $"chat with [{peer}]";

    private static string State(UserEntry user) => (user.Online ? Field.Online : Field.Offline).Value;

    private static string Role(UserEntry user) => user.Creator switch
    {
        true => Field.Creator.Value,
        false => Field.Normal.Value,
        null => "",
    };
}
