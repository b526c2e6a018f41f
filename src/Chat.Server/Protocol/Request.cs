using Chat.Domain.Protocol;

namespace Chat.Server.Protocol;

/// <summary>
/// One client request with every field the protocol knows, parsed out of its frame (so nothing points into the
/// connection's buffer once it is handled). Absent fields are null; <c>id</c> and <c>name</c> are read but never
/// trusted after login.
/// </summary>
public sealed class Request
{
    public MsgId MsgId { get; init; }

    public int? Id { get; init; }

    public string? Name { get; init; }

    public string? Password { get; init; }

    public int? ToId { get; init; }

    public string? Msg { get; init; }

    public string? Time { get; init; }

    public int? FriendId { get; init; }

    public int? GroupId { get; init; }

    public string? GroupName { get; init; }

    public string? GroupDesc { get; init; }

    /// <summary>The client's correlation id, as text (a JSON string or number).</summary>
    public string? Cid { get; init; }

    /// <summary>Protocol version asked for at login: 2 turns LOGIN_ACK's lists into objects.</summary>
    public int V { get; init; }

    /// <summary>At login: the last seq the client saw per conversation; it gets everything after them.</summary>
    public IReadOnlyList<ResumePoint>? Resume { get; init; }
}

/// <summary>A conversation (the other user's id, or a group id) and the last seq the client saw in it.</summary>
public readonly record struct ResumePoint(int? Peer, int? GroupId, long Seq);

/// <summary>A request that could not be parsed: what to tell the client.</summary>
/// <param name="MsgId">The msgid, when it could be read.</param>
/// <param name="Cid">The cid, when it could be read: the error then goes out as an ACK.</param>
public sealed record RequestError(ErrorCode Code, string Message, int? MsgId, string? Cid);
