namespace Chat.Domain;

public sealed record UserAccount(int Id, string Name, string PasswordHash);

public sealed record FriendInfo(int Id, string Name);

public enum GroupRole
{
    Normal,
    Creator,
}

public sealed record GroupMemberInfo(int Id, string Name, GroupRole Role);

public sealed record GroupInfo(int Id, string Name, string Description, IReadOnlyList<GroupMemberInfo> Members);

/// <summary>A chat message as accepted from a sender, before it has a place in its conversation.</summary>
/// <param name="TargetId">The recipient user (one-to-one) or the group.</param>
/// <param name="ClientTime">The seed's free-text <c>time</c> field, as the sender wrote it.</param>
/// <param name="Ts">Server time, milliseconds since the Unix epoch.</param>
/// <param name="ClientId">The sender's <c>cid</c>, when given: a repeat is not stored twice.</param>
public sealed record ChatMessage(
    long ConversationId,
    int SenderId,
    string SenderName,
    int TargetId,
    string Body,
    string ClientTime,
    long Ts,
    string? ClientId)
{
    public bool IsGroup => Domain.ConversationId.IsGroup(ConversationId);

    // ---- The conversation is a log (issue 21): what kind of entry this is and what it names. ----

    /// <summary>A message, or an event changing the message at <see cref="Ref"/>; <see cref="Body"/> is an edit's new
    /// text, a reaction's emoji, empty for a recall.</summary>
    public EntryKind Kind { get; init; }

    /// <summary>An event's message (its seq in the same conversation); null for a message.</summary>
    public long? Ref { get; init; }

    /// <summary>A message that answers the one at this seq (ONE_CHAT/GROUP_CHAT <c>reply</c>).</summary>
    public long? ReplySeq { get; init; }
    /// <summary>The file this message carries (then <see cref="Body"/> is its caption, maybe empty), or null.</summary>
    public FileRef? File { get; init; }
}

/// <summary>What an entry of a conversation's log is. Every kind takes the conversation's next seq.</summary>
public enum EntryKind : short
{
    Message = 0,
    Edit = 1,
    Recall = 2,

    /// <summary>A reaction added (REACT with <c>on</c> true).</summary>
    React = 3,

    /// <summary>A reaction taken back (REACT with <c>on</c> false).</summary>
    Unreact = 4,
}

/// <summary>The message a reply quotes, as it stands: its first characters, or recalled.</summary>
public sealed record ReplyQuote(long Seq, int SenderId, string SenderName, string Text, bool Recalled)
{
    public const int MaxChars = 100;

    public static ReplyQuote Of(long seq, int senderId, string senderName, string body, bool recalled) =>
        new(seq, senderId, senderName, recalled ? "" : Prefix(body), recalled);

    /// <summary>The first <see cref="MaxChars"/> UTF-16 units, never cutting a surrogate pair.</summary>
    private static string Prefix(string body)
    {
        if (body.Length <= MaxChars)
        {
            return body;
        }

        var n = char.IsHighSurrogate(body[MaxChars - 1]) ? MaxChars - 1 : MaxChars;
        return body[..n];
    }
}

/// <summary>Who reacted to a message with one emoji.</summary>
public sealed record ReactionGroup(string Emoji, IReadOnlyList<int> UserIds);

/// <summary>A message durably stored at <paramref name="Seq"/> in its conversation (or an event: see <see cref="ChatMessage.Kind"/>).</summary>
public sealed record StoredMessage(ChatMessage Message, long Seq)
{
    // ---- A message's current state, as the log left it (read from the store; a new message has none of it). ----

    /// <summary>When its text was last edited (ms since the epoch); null when never.</summary>
    public long? EditedTs { get; init; }

    /// <summary>Recalled: its text, file and reactions are erased.</summary>
    public bool Recalled { get; init; }

    public IReadOnlyList<ReactionGroup> Reactions { get; init; } = [];

    /// <summary>The message it answers, when it does.</summary>
    public ReplyQuote? Reply { get; init; }
}

/// <summary>
/// One message as a user (or an operator) may see it, for checking an event or a reply against it: null from the store
/// when the message does not exist, is an event, or is not the user's to see (before they joined the group).
/// </summary>
/// <param name="MyEmoji">The emoji the asking user has on it (none for an operator).</param>
public sealed record MessageState(long Seq, int SenderId, string SenderName, string Body, long Ts, bool Recalled, IReadOnlyList<string> MyEmoji);

/// <summary>The result of an append: the stored message, which is the earlier one when the cid repeated.</summary>
public sealed record AppendResult(StoredMessage Stored, bool Duplicate);

/// <summary>Where one of a user's conversations stands at login.</summary>
/// <param name="Cursor">The user's delivered-cursor.</param>
/// <param name="Start">Where this login starts counting: the cursor, or a later seq the client said it has seen.</param>
/// <param name="LastSeq">The conversation's newest seq.</param>
/// <param name="Read">The user's read mark (never before the user joined).</param>
/// <param name="Unread">Messages from others after <paramref name="Read"/>, among the conversation's newest 1,000.</param>
public sealed record ConversationState(long ConversationId, long Cursor, long Start, long LastSeq, long Read = 0, long Unread = 0);

/// <summary>What a user has not yet received, read at login.</summary>
/// <param name="Conversations">Every conversation the user takes part in.</param>
/// <param name="Pending">
/// Messages not sent by the user beyond their cursors, or beyond the seqs the client asked to resume from, oldest
/// first and in seq order within each conversation.
/// </param>
public sealed record Inbox(IReadOnlyList<ConversationState> Conversations, IReadOnlyList<StoredMessage> Pending);

/// <summary>A user left a group; <paramref name="Heir"/> took over the creator's role when the one leaving held it.</summary>
public sealed record LeftGroup(int? Heir);

public enum JoinResult
{
    Joined,
    AlreadyMember,
    NoSuchGroup,
}

/// <summary>A page of a conversation's history, oldest first.</summary>
/// <param name="More">Older messages the user may see exist before the first one.</param>
public sealed record MessagePage(IReadOnlyList<StoredMessage> Messages, bool More)
{
    /// <summary>
    /// On the last page (<see cref="More"/> false): the oldest seq the conversation still holds for the user (an entry,
    /// message or event). Above 1 (or the seq they joined at) when retention erased what came before. Null otherwise.
    /// </summary>
    public long? Start { get; init; }
}

public enum RemoveResult
{
    Removed,
    NoSuchGroup,

    /// <summary>The remover is not a member.</summary>
    NotMember,

    /// <summary>The remover is not the creator, or tried to remove the creator (themselves).</summary>
    NotAllowed,

    /// <summary>The one to remove is not a member.</summary>
    NoSuchMember,
}
