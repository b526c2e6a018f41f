namespace Chat.Protocol;

/// <summary>
/// The <c>errno</c> values on the wire. 0–2 keep the seed's meaning in LOGIN_ACK / REG_ACK
/// (1: wrong id or password, or a name that is taken or invalid; 2: already online).
/// </summary>
public enum ErrorCode
{
    None = 0,
    Invalid = 1,
    AlreadyOnline = 2,
    NotLoggedIn = 3,
    BadRequest = 4,
    UnknownMsgId = 5,
    NotFound = 6,
    NotMember = 7,
    FrameTooLarge = 8,
    Conflict = 9,
    Unavailable = 10,
    TooManyAttempts = 11,

    /// <summary>This session was replaced by a newer login of the same user (<c>Chat:Login:Multiple</c> = replace).</summary>
    Replaced = 12,

    /// <summary>Not the user's to do (REMOVE_MEMBER by anyone but the group's creator; EDIT or RECALL of another's
    /// message, past its window, or of a recalled one).</summary>
    NotAllowed = 13,
}
