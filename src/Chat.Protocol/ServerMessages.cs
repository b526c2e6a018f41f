namespace Chat.Protocol;

/// <summary>A server → client frame, typed by its msgid, as <see cref="ServerFrameReader"/> reads it.</summary>
public abstract record ServerMessage(MsgId MsgId);

/// <summary>A frame answering a request: the request's cid (when it had one), errno and errmsg.</summary>
public abstract record Answer(MsgId MsgId, Cid? Cid, ErrorCode Errno, string? ErrMsg) : ServerMessage(MsgId)
{
    public bool Succeeded => Errno == ErrorCode.None;
}

/// <summary>ACK (11), with what the request produced: a chat message's seq and ts, a new group's id.</summary>
public sealed record AckMessage(Cid? Cid, ErrorCode Errno, string? ErrMsg, long? Seq = null, long? Ts = null, int? GroupId = null)
    : Answer(MsgId.Ack, Cid, Errno, ErrMsg)
{
    /// <summary>FIND's users (with <c>about</c> and <c>avatar</c>), when the ACK answers one.</summary>
    public IReadOnlyList<UserEntry>? Users { get; init; }
}

/// <summary>PROFILE (27) pushed: what user <paramref name="Id"/> now says about themselves.</summary>
public sealed record ProfileMessage(int Id, string About, string Avatar) : ServerMessage(MsgId.Profile);

/// <summary>FIND (28) answered without a cid.</summary>
public sealed record FoundMessage(ErrorCode Errno, string? ErrMsg, IReadOnlyList<UserEntry> Users) : Answer(MsgId.Find, null, Errno, ErrMsg);

/// <summary>ERROR (12): a failure that carries no cid; <paramref name="Req"/> is the failed request's msgid, when known.</summary>
public sealed record ErrorMessage(ErrorCode Errno, string? ErrMsg, int? Req) : Answer(MsgId.Error, null, Errno, ErrMsg);

/// <summary>REG_ACK (5): the new user's id on success.</summary>
public sealed record RegAckMessage(ErrorCode Errno, string? ErrMsg, int? Id, Cid? Cid) : Answer(MsgId.RegAck, Cid, Errno, ErrMsg);

public sealed record PongMessage(Cid? Cid) : Answer(MsgId.Pong, Cid, ErrorCode.None, null);

/// <summary>
/// LOGIN_ACK (2), read alike from the seed's form (list entries are strings holding JSON documents) and the v2 form
/// (objects). On failure only errno, errmsg and cid are set.
/// </summary>
/// <param name="Offline">The messages the user missed, oldest first.</param>
/// <param name="Conversations">v2: each conversation's newest seq.</param>
/// <param name="More">v2: more messages were waiting than <paramref name="Offline"/> carries.</param>
/// <param name="Token">v2: the session token for the next LOGIN.</param>
public sealed record LoginAckMessage(
    ErrorCode Errno,
    string? ErrMsg,
    Cid? Cid,
    int Id,
    string Name,
    IReadOnlyList<UserEntry> Friends,
    IReadOnlyList<GroupEntry> Groups,
    IReadOnlyList<ChatReceived> Offline,
    IReadOnlyList<ConversationEntry> Conversations,
    bool More,
    string? Token = null) : Answer(MsgId.LoginAck, Cid, Errno, ErrMsg)
{
    /// <summary>v2: every offline entry in order, events (<see cref="LogEventReceived"/>) among the messages.</summary>
    public IReadOnlyList<ServerMessage> OfflineEntries { get; init; } = [];
}

/// <summary>
/// A chat message (ONE_CHAT 6 or GROUP_CHAT 10) as a recipient gets it. <see cref="ChatPush.Seq"/> and
/// <see cref="ChatPush.Ts"/> are 0 from a server that sends none (the seed's).
/// </summary>
public sealed record ChatReceived(ChatPush Push) : ServerMessage(Push.IsGroup ? MsgId.GroupChat : MsgId.OneChat);

/// <summary>HISTORY_ACK (16): a page of a conversation, oldest first; on failure only errno, errmsg and cid are set.</summary>
/// <param name="More">Older messages the user may see exist before the first one.</param>
public sealed record HistoryAckMessage(ErrorCode Errno, string? ErrMsg, Cid? Cid, int? Peer, int? GroupId, IReadOnlyList<ChatReceived> Messages, bool More)
    : Answer(MsgId.HistoryAck, Cid, Errno, ErrMsg);

/// <summary>READ_NOTICE (18): user <paramref name="Id"/> has read the conversation named by peer or groupid up to <paramref name="Seq"/>.</summary>
public sealed record ReadNoticeMessage(int Id, int? Peer, int? GroupId, long Seq) : ServerMessage(MsgId.ReadNotice);

/// <summary>
/// A push: <paramref name="UserId"/> is out of the group — removed by <paramref name="By"/> (REMOVE_MEMBER, 22), or
/// left it (LEAVE_GROUP, 21). The user's other sessions get it, and the group's other members.
/// </summary>
public sealed record MemberGoneMessage(MsgId MsgId, int GroupId, int UserId, int? By) : ServerMessage(MsgId);

/// <summary>A push to a group's other members (ADD_GROUP, 9): <paramref name="Member"/> joined group <paramref name="GroupId"/>.</summary>
public sealed record MemberJoinedMessage(int GroupId, UserEntry Member) : ServerMessage(MsgId.AddGroup);

/// <summary>An event of a conversation's log (EDIT 24, RECALL 25, REACT 26) as its parties get it.</summary>
public sealed record LogEventReceived(EventPush Push) : ServerMessage(Push.Kind);

/// <summary>A frame of a type this reader does not know: a client that does not know it either ignores it.</summary>
public sealed record OtherMessage(MsgId MsgId) : ServerMessage(MsgId);

/// <summary>TYPING (19) as relayed: <paramref name="Id"/> is typing to the recipient (<paramref name="Peer"/>, the typist's id) or in group <paramref name="GroupId"/>.</summary>
public sealed record TypingMessage(int Id, string Name, int? Peer, int? GroupId) : ServerMessage(MsgId.Typing);

/// <summary>PRESENCE (20): a friend's cluster-wide state changed.</summary>
public sealed record PresenceMessage(int Id, bool Online) : ServerMessage(MsgId.Presence);
