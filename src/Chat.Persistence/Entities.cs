using Chat.Domain;

namespace Chat.Persistence;

// Rows as EF Core maps them. Table and column names live in EntityConfigurations.cs, not here.

public sealed class UserEntity
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public required string PasswordHash { get; set; }
}

/// <summary>One direction of a friendship: <see cref="UserId"/> added <see cref="FriendId"/>.</summary>
public sealed class FriendEntity
{
    public int UserId { get; set; }

    public int FriendId { get; set; }
}

public sealed class GroupEntity
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public required string Description { get; set; }

    /// <summary>Who created it and with which cid: a resent CREATE_GROUP is answered with this group.</summary>
    public int? CreatorId { get; set; }

    public string? ClientId { get; set; }
}

public sealed class GroupMemberEntity
{
    public int GroupId { get; set; }

    public int UserId { get; set; }

    public GroupRole Role { get; set; }

    /// <summary>When the user joined (UTC ticks): a leaving creator's role passes to the longest-standing member.</summary>
    public long JoinedAt { get; set; }
}

/// <summary>The last sequence number handed out in a conversation (see <see cref="ConversationId"/>).</summary>
public sealed class ConversationEntity
{
    public long Id { get; set; }

    public long LastSeq { get; set; }
}

public sealed class MessageEntity
{
    public long ConversationId { get; set; }

    public long Seq { get; set; }

    public int SenderId { get; set; }

    public required string SenderName { get; set; }

    public required string Body { get; set; }

    public required string ClientTime { get; set; }

    /// <summary>Server time, milliseconds since the Unix epoch.</summary>
    public long Ts { get; set; }

    public string? ClientId { get; set; }

    // ---- The conversation is a log (issue 21): events are rows of the same log, and change the message they name. ----

    /// <summary><see cref="EntryKind"/>: a message, or an event naming the message at <see cref="RefSeq"/>.</summary>
    public EntryKind Kind { get; set; }

    /// <summary>An event's message; null for a message.</summary>
    public long? RefSeq { get; set; }

    /// <summary>A message's last edit (ms since the epoch); null when never edited.</summary>
    public long? EditedTs { get; set; }

    /// <summary>Recalled: the text is erased (a tombstone keeps the seq); on an edit event, its text is erased too.</summary>
    public bool Recalled { get; set; }

    /// <summary>The message this one answers (ONE_CHAT/GROUP_CHAT <c>reply</c>).</summary>
    public long? ReplySeq { get; set; }

    /// <summary>
    /// The message's reactions as they stand, folded for reading (<see cref="ReactionFold"/>): <c>user:emoji</c> per
    /// <see cref="ReactionEntity"/> row, space-separated, in the order they were made; null when none. Written with
    /// the rows, in the same transaction, so HISTORY reads a page in one statement.
    /// </summary>
    public string? Reactions { get; set; }
}

/// <summary>One user's reaction with one emoji to one message (issue 21): the current state REACT events leave.</summary>
public sealed class ReactionEntity
{
    public long ConversationId { get; set; }

    public long Seq { get; set; }

    public int UserId { get; set; }

    public required string Emoji { get; set; }

    public long Ts { get; set; }
}

/// <summary>How far a user has been delivered a conversation.</summary>
public sealed class CursorEntity
{
    public int UserId { get; set; }

    public long ConversationId { get; set; }

    public long DeliveredSeq { get; set; }

    /// <summary>Messages up to this seq are not the user's to read (a group's history from before they joined).</summary>
    public long FromSeq { get; set; }

    /// <summary>How far the user has read the conversation (READ), moved in batches by <see cref="ReadMarkWriter"/>.</summary>
    public long ReadSeq { get; set; }
}

/// <summary>A session token, by its SHA-256 (hex); the token itself is never stored.</summary>
public sealed class SessionTokenEntity
{
    public required string TokenHash { get; set; }

    public int UserId { get; set; }

    /// <summary>UTC. A <see cref="DateTime"/>, not an offset: SQLite compares only those in queries.</summary>
    public DateTime ExpiresAt { get; set; }
}

/// <summary>An operator's ban of a user (the admin API): logins are refused with the reason until <see cref="Until"/> (null: for good).</summary>
public sealed class BanEntity
{
    public int UserId { get; set; }

    public required string Reason { get; set; }

    /// <summary>UTC; null: no end.</summary>
    public DateTime? Until { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// A message batch's mark, inserted in the batch's own transaction: after the connection died with the COMMIT
/// sent, the writer finds it (committed) or not (rolled back) instead of guessing. <see cref="Seqs"/> holds the
/// seq of each message the batch stored, as <c>position:seq</c> pairs (1-based), so a committed batch is answered
/// without its lost reply. Each writer lane keeps its last 64.
/// </summary>
public sealed class AppendMarkEntity
{
    /// <summary>The writer lane: random, new each time a writer starts.</summary>
    public long LaneId { get; set; }

    /// <summary>The lane's batch number.</summary>
    public long Batch { get; set; }

    /// <summary>Milliseconds since the Unix epoch: marks of lanes gone for an hour are deleted when a writer starts.</summary>
    public long CreatedAt { get; set; }

    public required string Seqs { get; set; }
}
