namespace Chat.Protocol;

/// <summary>
/// What a request came to, as a handler returns it. <see cref="ServerFrames.Reply"/> turns it into the frame the
/// request's type and cid call for: ACK (11) for a request with a cid, ERROR (12) for a failure without one, and
/// LOGIN_ACK / REG_ACK / PONG for the requests the seed answers with those.
/// </summary>
public abstract record Reply
{
    /// <summary>Done, nothing to report: ACK errno 0 when the request carried a cid, else nothing.</summary>
    public static readonly Reply Ok = new Done();

    public static Reply Fail(ErrorCode code, string message) => new Failed(code, message);
}

public sealed record Done : Reply;

public sealed record Failed(ErrorCode Code, string Message) : Reply;

/// <summary>CREATE_GROUP: ACK with the group's id.</summary>
public sealed record GroupCreated(int GroupId) : Reply;

/// <summary>ADD_FRIEND: ACK with the friend as LOGIN_ACK lists friends (name and state), so no new login is needed to learn them.</summary>
public sealed record FriendAdded(UserEntry Friend) : Reply;

/// <summary>ADD_GROUP: ACK with the group as LOGIN_ACK lists groups (name, description, members with state and role).</summary>
public sealed record GroupJoined(GroupEntry Group) : Reply;

/// <summary>A chat message stored: ACK with its seq and server time.</summary>
public sealed record MessageStored(long Seq, long Ts) : Reply;

/// <summary>REG_ACK errno 0 with the new id.</summary>
public sealed record Registered(int Id) : Reply;

public sealed record Pong : Reply;

/// <summary>The reply was queued by the handler itself (LOGIN_ACK is queued together with the login's deliveries).</summary>
public sealed record AlreadySent : Reply;

/// <summary>A user as LOGIN_ACK lists them: a friend, or a group member with a role.</summary>
public sealed record UserEntry(int Id, string Name, bool Online, bool? Creator = null)
{
    /// <summary>PROFILE's about (v2 lists only; null: not written).</summary>
    public string? About { get; init; }

    /// <summary>PROFILE's avatar file id, "" for none (v2 lists only; null: not written).</summary>
    public string? Avatar { get; init; }
}

/// <summary>A user as FIND answers: <c>{id, name, about, avatar}</c>.</summary>
public sealed record FoundUser(int Id, string Name, string About, string Avatar);

/// <summary>FIND: the users found (28, or ACK with a cid).</summary>
public sealed record UsersFound(IReadOnlyList<FoundUser> Users) : Reply;

public sealed record GroupEntry(int Id, string Name, string Description, IReadOnlyList<UserEntry> Users);

/// <summary>
/// Where a conversation stands (v2 LOGIN_ACK <c>convs</c>): the other user or the group, its newest seq, the user's
/// read mark and how many messages from others lie after it.
/// </summary>
public sealed record ConversationEntry(int? Peer, int? GroupId, long Seq, long Read = 0, long Unread = 0);

/// <summary>A successful LOGIN_ACK.</summary>
/// <param name="Offline">Chat frames (as <see cref="ServerFrames.Chat"/> builds them) the user missed.</param>
/// <param name="More">More messages were waiting than this LOGIN_ACK carries.</param>
/// <param name="Token">The session token for the next LOGIN (v2 only).</param>
public sealed record LoginAck(
    int Id,
    string Name,
    IReadOnlyList<UserEntry> Friends,
    IReadOnlyList<GroupEntry> Groups,
    IReadOnlyList<ReadOnlyMemory<byte>> Offline,
    IReadOnlyList<ConversationEntry> Conversations,
    bool More,
    string? Token = null)
{
    /// <summary>Users this one blocked (v2 only).</summary>
    public IReadOnlyList<int> Blocked { get; init; } = [];
}

/// <summary>A chat message (ONE_CHAT 6 or GROUP_CHAT 10) as its recipients get it.</summary>
/// <param name="TargetId">The recipient (one-to-one) or the group.</param>
/// <param name="File">The file it carries (then <paramref name="Msg"/> is its caption), or null.</param>
public readonly record struct ChatPush(bool IsGroup, int SenderId, string SenderName, int TargetId, string Msg, string Time, long Seq, long Ts, ChatFile? File = null)
{
    // ---- v2, the conversation is a log (issue 21): what the message answers, and how it stands now. ----

    /// <summary>The message this one answers (<c>reply</c>).</summary>
    public QuoteEntry? Reply { get; init; }

    /// <summary>When its text was last edited (<c>edited</c>); null when never.</summary>
    public long? Edited { get; init; }

    /// <summary>Taken back (<c>recalled: true</c>): no text, no reactions.</summary>
    public bool Recalled { get; init; }

    /// <summary>Who reacted with what (<c>reactions</c>), in HISTORY.</summary>
    public IReadOnlyList<ReactionEntry>? Reactions { get; init; }
}

/// <summary>A reply's quote: the answered message's seq, author and first 100 characters, or that it was recalled.</summary>
public sealed record QuoteEntry(long Seq, int Id, string Name, string Msg, bool Recalled = false);

/// <summary>The users who reacted to a message with one emoji.</summary>
public sealed record ReactionEntry(string Emoji, IReadOnlyList<int> Ids);

/// <summary>
/// An event of a conversation's log as its parties get it: EDIT (24, <paramref name="Msg"/>), RECALL (25) or REACT
/// (26, <paramref name="Emoji"/> and <paramref name="On"/>), at its own <paramref name="Seq"/>, naming the message at
/// <paramref name="Ref"/>.
/// </summary>
public readonly record struct EventPush(
    MsgId Kind, bool IsGroup, int SenderId, string SenderName, int TargetId, long Seq, long Ref, string Msg, bool On, long Ts);

/// <summary>A file as a chat message carries it: <c>file: {id, name, size, type, thumb}</c>.</summary>
/// <param name="Thumb">A thumbnail can be fetched at <c>/files/{id}/thumb</c> (images).</param>
public sealed record ChatFile(string Id, string Name, long Size, string Type, bool Thumb)
{
    /// <summary>How a seed client sees it, after the caption: <c>[file: name, size]</c>.</summary>
    public string SeedText(string caption)
    {
        var size = Size switch
        {
            < 1024 => $"{Size} B",
            < 1024 * 1024 => $"{Size / 1024.0:0.#} KB",
            _ => $"{Size / (1024.0 * 1024):0.#} MB",
        };
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[file: {Name}, {size}]");
        return caption.Length == 0 ? text : $"{caption} {text}";
    }
}

/// <summary>HISTORY_ACK: a page of a conversation, oldest first.</summary>
/// <param name="Messages">Chat frames as <see cref="ServerFrames.Chat"/> builds them.</param>
/// <param name="More">Older messages the user may see exist before the first one.</param>
public sealed record HistoryPage(int? Peer, int? GroupId, IReadOnlyList<ReadOnlyMemory<byte>> Messages, bool More) : Reply
{
    /// <summary>On the last page: the oldest seq the conversation still holds for the user (<c>"start"</c>); null: not said.</summary>
    public long? Start { get; init; }
}
