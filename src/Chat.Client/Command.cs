using System.Globalization;

namespace Chat.Client;

/// <summary>A line typed at the logged-in prompt, parsed.</summary>
public abstract record Command
{
    private Command()
    {
    }

    public sealed record Help : Command;

    public sealed record Chat(int FriendId, string Message) : Command;

    public sealed record AddFriend(int FriendId) : Command;

    public sealed record CreateGroup(string Name, string Description) : Command;

    public sealed record AddGroup(int GroupId) : Command;

    public sealed record GroupChat(int GroupId, string Message) : Command;

    public sealed record LoginOut : Command;

    /// <summary>Tells a friend (or a group) that the user is typing.</summary>
    public sealed record Typing(bool IsGroup, int TargetId) : Command;
    /// <summary>A page of a conversation (a friend's id or a group's): the messages before <paramref name="Before"/>, or the newest.</summary>
    public sealed record History(bool IsGroup, int TargetId, long? Before) : Command;

    /// <summary>Marks a conversation read up to <paramref name="Seq"/>.</summary>
    public sealed record Read(bool IsGroup, int TargetId, long Seq) : Command;

    public sealed record LeaveGroup(int GroupId) : Command;

    public sealed record RemoveMember(int GroupId, int UserId) : Command;

    public sealed record RemoveFriend(int FriendId) : Command;

    // The conversation is a log (issue 21): each names a message by its seq in a chat (a friend's id) or a group.

    /// <summary>Sends <paramref name="Message"/> as a reply to the message at <paramref name="Seq"/>.</summary>
    public sealed record Reply(bool IsGroup, int TargetId, long Seq, string Message) : Command;

    /// <summary>Replaces the text of one's own message at <paramref name="Seq"/>.</summary>
    public sealed record Edit(bool IsGroup, int TargetId, long Seq, string Message) : Command;

    public sealed record Recall(bool IsGroup, int TargetId, long Seq) : Command;

    /// <summary>Reacts to the message at <paramref name="Seq"/> with <paramref name="Emoji"/>, or takes that back.</summary>
    public sealed record React(bool IsGroup, int TargetId, long Seq, string Emoji, bool On) : Command;

    /// <summary>Uploads the file at <paramref name="Path"/> and sends it to a friend or a group, with an optional caption.</summary>
    public sealed record SendFile(bool IsGroup, int TargetId, string Path, string Caption) : Command;

    /// <summary>Downloads a file (or its thumbnail) to <paramref name="Path"/>.</summary>
    public sealed record GetFile(string FileId, string Path, bool Thumb) : Command;

    /// <summary>Sets what the user says about themselves; with <paramref name="AvatarPath"/> an image uploaded as the avatar.</summary>
    public sealed record Profile(string About, string? AvatarPath) : Command;

    public sealed record Find(string Query) : Command;

    public sealed record Block(int UserId, bool On) : Command;

    /// <summary>A line that is not a command: what to tell the user.</summary>
    public sealed record Invalid(string Reason) : Command;

    /// <summary>One line per command, as <c>help</c> prints them.</summary>
    public static readonly IReadOnlyList<string> Usage =
    [
        "help : show the commands",
        "chat : chat:friendid:message",
        "addfriend : addfriend:friendid",
        "creategroup : creategroup:groupname:groupdesc",
        "addgroup : addgroup:groupid",
        "groupchat : groupchat:groupid:message",
        "loginout : loginout",
        "typing : typing:friendid (tell a friend you are typing)",
        "grouptyping : grouptyping:groupid (tell a group you are typing)",
        "history : history:friendid[:beforeseq] (50 messages before that seq, or the newest)",
        "grouphistory : grouphistory:groupid[:beforeseq]",
        "read : read:friendid:seq (marks the chat read up to seq)",
        "groupread : groupread:groupid:seq",
        "leavegroup : leavegroup:groupid",
        "removemember : removemember:groupid:userid (the group's creator only)",
        "removefriend : removefriend:friendid",
        "reply : reply:friendid:seq:message (answers the message at seq, quoting it)",
        "groupreply : groupreply:groupid:seq:message",
        "edit : edit:friendid:seq:message (your own message, within 48 hours)",
        "groupedit : groupedit:groupid:seq:message",
        "recall : recall:friendid:seq (your own message, within 48 hours; erased for everyone)",
        "grouprecall : grouprecall:groupid:seq (the group's creator may recall any message)",
        "react : react:friendid:seq:emoji (unreact:... takes it back)",
        "groupreact : groupreact:groupid:seq:emoji (groupunreact:... takes it back)",
        "send-file : send-file:friendid:path[:caption] (uploads the file and sends it)",
        "send-groupfile : send-groupfile:groupid:path[:caption]",
        "get-file : get-file:fileid:path (saves a file sent to you; get-thumb:fileid:path for an image's thumbnail)",
        "profile : profile:about[:avatarimagepath]",
        "find : find:name prefix (2 to 32 characters)",
        "block : block:userid (unblock:userid undoes it)",
    ];

    /// <summary>
    /// Parses one line: <c>name[:arg[:rest]]</c>, split only as often as the command needs, so a message or a group
    /// description may itself contain <c>:</c>. Null for a blank line.
    /// </summary>
    public static Command? Parse(string line)
    {
        var text = line.Trim();
        if (text.Length == 0)
        {
            return null;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? text : text[..colon];
        var args = colon < 0 ? null : text[(colon + 1)..];
        return name switch
        {
            "help" => new Help(),
            "loginout" => new LoginOut(),
            "chat" => IdAndText(args, "chat:friendid:message", (id, msg) => new Chat(id, msg)),
            "groupchat" => IdAndText(args, "groupchat:groupid:message", (id, msg) => new GroupChat(id, msg)),
            "addfriend" => Id(args, "addfriend:friendid", id => new AddFriend(id)),
            "addgroup" => Id(args, "addgroup:groupid", id => new AddGroup(id)),
            "creategroup" => Group(args),
            "typing" => Id(args, "typing:friendid", id => new Typing(false, id)),
            "grouptyping" => Id(args, "grouptyping:groupid", id => new Typing(true, id)),
            "history" or "grouphistory" => Numbers(args, 1, $"{name}:{Target(name)}[:beforeseq]", n => new History(name == "grouphistory", (int)n[0], n.Length > 1 ? n[1] : null)),
            "read" or "groupread" => Numbers(args, 2, $"{name}:{Target(name)}:seq", n => new Read(name == "groupread", (int)n[0], n[1])),
            "leavegroup" => Id(args, "leavegroup:groupid", id => new LeaveGroup(id)),
            "removemember" => Numbers(args, 2, "removemember:groupid:userid", n => new RemoveMember((int)n[0], (int)n[1]), twoIds: true),
            "removefriend" => Id(args, "removefriend:friendid", id => new RemoveFriend(id)),
            "reply" or "groupreply" => SeqAndText(args, name, (id, seq, text) => new Reply(name == "groupreply", id, seq, text)),
            "edit" or "groupedit" => SeqAndText(args, name, (id, seq, text) => new Edit(name == "groupedit", id, seq, text)),
            "recall" or "grouprecall" => Numbers(args, 2, $"{name}:{Target(name)}:seq", n => new Recall(name == "grouprecall", (int)n[0], n[1])),
            "react" or "groupreact" or "unreact" or "groupunreact" => SeqAndText(args, name, (id, seq, emoji) =>
                new React(name.StartsWith("group", StringComparison.Ordinal), id, seq, emoji.Trim(), !name.EndsWith("unreact", StringComparison.Ordinal))),
            "send-file" or "send-groupfile" => FileToSend(name == "send-groupfile", args),
            "get-file" or "get-thumb" => args?.IndexOf(':', StringComparison.Ordinal) is > 0 and var c && c < args.Length - 1
                ? new GetFile(args[..c].Trim(), args[(c + 1)..], name == "get-thumb")
                : new Invalid($"usage: {name}:fileid:path"),
            "profile" => args is null ? new Invalid("usage: profile:about[:avatarimagepath]")
                : args.IndexOf(':', StringComparison.Ordinal) is var p && p >= 0 ? new Profile(args[..p], args[(p + 1)..]) : new Profile(args, null),
            "find" => args is { Length: >= 2 and <= 32 } ? new Find(args) : new Invalid("usage: find:prefix (2 to 32 characters)"),
            "block" => Id(args, "block:userid", id => new Block(id, true)),
            "unblock" => Id(args, "unblock:userid", id => new Block(id, false)),
            _ => new Invalid($"unknown command '{name}': type help"),
        };
    }

    private static Command Id(string? args, string usage, Func<int, Command> make) =>
        TryId(args, out var id) ? make(id) : new Invalid($"usage: {usage} (the id is a positive number)");

    private static Command IdAndText(string? args, string usage, Func<int, string, Command> make)
    {
        var colon = args?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon >= 0 && TryId(args![..colon], out var id)
            ? make(id, args[(colon + 1)..])
            : new Invalid($"usage: {usage} (the id is a positive number)");
    }

    private static Command Group(string? args)
    {
        var colon = args?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        var name = colon < 0 ? args : args![..colon];
        return string.IsNullOrWhiteSpace(name)
            ? new Invalid("usage: creategroup:groupname:groupdesc")
            : new CreateGroup(name, colon < 0 ? "" : args![(colon + 1)..]);
    }

    /// <summary><c>id:seq:text</c>: the text may itself contain <c>:</c>.</summary>
    private static Command SeqAndText(string? args, string name, Func<int, long, string, Command> make)
    {
        var parts = args?.Split(':', 3) ?? [];
        var usage = $"usage: {name}:{Target(name)}:seq:{(name.Contains("react", StringComparison.Ordinal) ? "emoji" : "message")} (ids and seqs are positive numbers)";
        return parts.Length == 3 && TryId(parts[0], out var id)
            && long.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq > 0
            ? make(id, seq, parts[2])
            : new Invalid(usage);
    }

    private static Command FileToSend(bool group, string? args)
    {
        var parts = args?.Split(':', 3) ?? [];
        return parts.Length >= 2 && TryId(parts[0], out var id) && parts[1].Length > 0
            ? new SendFile(group, id, parts[1], parts.Length > 2 ? parts[2] : "")
            : new Invalid($"usage: send-{(group ? "groupfile:groupid" : "file:friendid")}:path[:caption]");
    }

    private static string Target(string command) => command.StartsWith("group", StringComparison.Ordinal) ? "groupid" : "friendid";

    /// <summary>
    /// An id and, after it, one more positive number: required when <paramref name="required"/> is 2, optional when 1.
    /// With <paramref name="twoIds"/> the second is an id too (it must fit one), else a seq.
    /// </summary>
    private static Command Numbers(string? args, int required, string usage, Func<long[], Command> make, bool twoIds = false)
    {
        var parts = args?.Split(':') ?? [];
        var numbers = new long[parts.Length];
        var valid = parts.Length >= required && parts.Length <= 2;
        for (var i = 0; valid && i < parts.Length; i++)
        {
            valid = long.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i])
                && numbers[i] > 0 && (numbers[i] <= int.MaxValue || (i == 1 && !twoIds));
        }

        return valid ? make(numbers) : new Invalid($"usage: {usage} (ids and seqs are positive numbers)");
    }

    private static bool TryId(string? text, out int id) =>
        int.TryParse(text?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0;
}
