namespace Chat.Protocol;

/// <summary>
/// A client → server frame, typed by its msgid. <see cref="RequestReader"/> reads one from the wire and
/// <see cref="RequestWriter"/> writes one; a field the request needs but lacks makes an <see cref="InvalidRequest"/>
/// instead, answered like the request's own failure. <c>id</c> and <c>name</c> in a frame are never trusted after login.
/// </summary>
public abstract record Request
{
    /// <summary>The client's correlation id: a request that carries one is answered with ACK (or its own reply type).</summary>
    public Cid? Cid { get; init; }

    public abstract MsgId MsgId { get; }
}

/// <summary>LOGIN with a password, or with <see cref="Token"/> (a session token from an earlier v2 LOGIN_ACK) instead.</summary>
/// <param name="Password">Null when the login is by <see cref="Token"/>.</param>
/// <param name="Version">2 asks for LOGIN_ACK's lists as objects, for <c>convs</c> and for a session token.</param>
/// <param name="Resume">The last seq the client saw per conversation: it gets everything after them.</param>
public sealed record LoginRequest(int Id, string? Password, int Version = 0, IReadOnlyList<ResumePoint>? Resume = null) : Request
{
    /// <summary>A session token: checked instead of <see cref="Password"/> when there is no password.</summary>
    public string? Token { get; init; }

    public override MsgId MsgId => MsgId.Login;
}

public sealed record LogoutRequest : Request
{
    /// <summary>Also revokes every session token of the user, on every device.</summary>
    public bool All { get; init; }

    public override MsgId MsgId => MsgId.LoginOut;
}

/// <summary>REG: name and password are checked by the server's rules, so either may be missing here.</summary>
public sealed record RegisterRequest(string? Name, string? Password) : Request
{
    public override MsgId MsgId => MsgId.Reg;
}

/// <param name="Time">The seed's free-text time, as the sender wrote it.</param>
public sealed record OneChatRequest(int ToId, string Msg, string? Time = null) : Request
{
    /// <summary>v2: the seq of the message in the same conversation this one answers.</summary>
    public long? Reply { get; init; }

    public override MsgId MsgId => MsgId.OneChat;

    /// <summary>An uploaded file's id: the message carries it, and <see cref="Msg"/> is its caption (may be empty).</summary>
    public string? File { get; init; }
}

public sealed record GroupChatRequest(int GroupId, string Msg, string? Time = null) : Request
{
    /// <summary>v2: the seq of the message in the same conversation this one answers.</summary>
    public long? Reply { get; init; }

    public override MsgId MsgId => MsgId.GroupChat;

    /// <summary>An uploaded file's id: the message carries it, and <see cref="Msg"/> is its caption (may be empty).</summary>
    public string? File { get; init; }
}

/// <summary>EDIT (24): replaces the text of the user's own message at <paramref name="Seq"/> in the conversation named by
/// exactly one of <paramref name="Peer"/> and <paramref name="GroupId"/>.</summary>
public sealed record EditRequest(int? Peer, int? GroupId, long Seq, string Msg) : Request
{
    public override MsgId MsgId => MsgId.Edit;
}

/// <summary>RECALL (25): takes back the message at <paramref name="Seq"/>: its text, file and reactions are erased.</summary>
public sealed record RecallRequest(int? Peer, int? GroupId, long Seq) : Request
{
    public override MsgId MsgId => MsgId.Recall;
}

/// <summary>REACT (26): the user reacts to the message at <paramref name="Seq"/> with <paramref name="Emoji"/>, or takes it back (<paramref name="On"/> false).</summary>
public sealed record ReactRequest(int? Peer, int? GroupId, long Seq, string Emoji, bool On = true) : Request
{
    /// <summary>An emoji is 1 to this many UTF-16 units.</summary>
    public const int MaxEmojiLength = 16;

    public override MsgId MsgId => MsgId.React;
}

public sealed record AddFriendRequest(int FriendId) : Request
{
    public override MsgId MsgId => MsgId.AddFriend;
}

public sealed record CreateGroupRequest(string? GroupName, string? GroupDesc) : Request
{
    public override MsgId MsgId => MsgId.CreateGroup;
}

/// <summary>ADD_GROUP: join a group.</summary>
public sealed record JoinGroupRequest(int GroupId) : Request
{
    public override MsgId MsgId => MsgId.AddGroup;
}

public sealed record PingRequest : Request
{
    public override MsgId MsgId => MsgId.Ping;
}

/// <summary>TYPING: the user is typing in a conversation, named by exactly one of <paramref name="Peer"/> and <paramref name="GroupId"/>.</summary>
public sealed record TypingRequest(int? Peer, int? GroupId) : Request
{
    public override MsgId MsgId => MsgId.Typing;
}

/// <summary>HISTORY: the <paramref name="Limit"/> newest messages of a conversation (exactly one of <paramref name="Peer"/>
/// and <paramref name="GroupId"/>) with seq below <paramref name="Before"/> (null: up to the newest).</summary>
public sealed record HistoryRequest(int? Peer, int? GroupId, long? Before, int Limit = HistoryRequest.DefaultLimit) : Request
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public override MsgId MsgId => MsgId.History;
}

/// <summary>READ: the user has read a conversation (exactly one of <paramref name="Peer"/> and <paramref name="GroupId"/>) up to <paramref name="Seq"/>.</summary>
public sealed record ReadRequest(int? Peer, int? GroupId, long Seq) : Request
{
    public override MsgId MsgId => MsgId.Read;
}

public sealed record LeaveGroupRequest(int GroupId) : Request
{
    public override MsgId MsgId => MsgId.LeaveGroup;
}

/// <summary>REMOVE_MEMBER: the group's creator removes <paramref name="UserId"/> from it.</summary>
public sealed record RemoveMemberRequest(int GroupId, int UserId) : Request
{
    public override MsgId MsgId => MsgId.RemoveMember;
}

/// <summary>REMOVE_FRIEND: removes one direction, as ADD_FRIEND adds one.</summary>
public sealed record RemoveFriendRequest(int FriendId) : Request
{
    public override MsgId MsgId => MsgId.RemoveFriend;
}

/// <summary>A well-formed frame of a known request type that lacks a field it needs: answered as that request's failure.</summary>
public sealed record InvalidRequest(MsgId For, ErrorCode Code, string Problem) : Request
{
    public override MsgId MsgId => For;
}

/// <summary>A conversation (the other user's id, or a group id) and the last seq the client saw in it.</summary>
public readonly record struct ResumePoint(int? Peer, int? GroupId, long Seq);

/// <summary>PROFILE (27): what the user says about themselves; a field left out stays as it is.</summary>
/// <param name="Avatar">An image file the user uploaded, or "" to clear.</param>
public sealed record ProfileRequest(string? About, string? Avatar) : Request
{
    public override MsgId MsgId => MsgId.Profile;
}

/// <summary>FIND (28): users whose name starts with <paramref name="Q"/>, ignoring case.</summary>
public sealed record FindRequest(string Q) : Request
{
    public override MsgId MsgId => MsgId.Find;
}

/// <summary>BLOCK (29): <paramref name="UserId"/> may no longer write to the user (or may again, <paramref name="On"/> false).</summary>
public sealed record BlockRequest(int UserId, bool On = true) : Request
{
    public override MsgId MsgId => MsgId.Block;
}

/// <summary>A frame that could not be read as a request: what to tell the client.</summary>
/// <param name="MsgId">The msgid, when it could be read.</param>
/// <param name="Cid">The cid, when it could be read: the error then goes out as an ACK.</param>
public sealed record RequestError(ErrorCode Code, string Message, int? MsgId, Cid? Cid);
