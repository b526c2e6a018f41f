namespace Chat.Domain;

/// <summary>Accounts, friends, groups and the inbox: the relational side, one instance per request scope.</summary>
public interface IChatStore
{
    /// <returns>The new user's id, or null when the name is taken.</returns>
    Task<int?> RegisterAsync(string name, string passwordHash, CancellationToken ct);

    Task<UserAccount?> FindUserAsync(int id, CancellationToken ct);

    Task<bool> UserExistsAsync(int id, CancellationToken ct);

    /// <returns>False when <paramref name="friendId"/> does not exist.</returns>
    Task<bool> AddFriendAsync(int userId, int friendId, CancellationToken ct);

    Task<IReadOnlyList<FriendInfo>> FriendsAsync(int userId, CancellationToken ct);

    /// <returns>The new group's id, or null when the name is taken. The creator is its first member.</returns>
    /// <summary>
    /// Creates a group with its creator as first member; null when the name is taken. A request repeated with the same
    /// <paramref name="clientId"/> by the same creator (a resend after a lost ACK) gets the group it created.
    /// </summary>
    Task<int?> CreateGroupAsync(int creatorId, string name, string description, string? clientId, CancellationToken ct);

    /// <summary>Adds a member whose delivered-cursor starts at the group's current end: no old history.</summary>
    /// <returns>The outcome and where the member's delivered-cursor stands (a new member's: the group's end).</returns>
    Task<(JoinResult Result, long StartSeq)> JoinGroupAsync(int userId, int groupId, CancellationToken ct);

    Task<IReadOnlyList<GroupInfo>> GroupsAsync(int userId, CancellationToken ct);

    /// <summary>One of the user's groups as <see cref="GroupsAsync"/> lists it; null when the user is not a member.</summary>
    Task<GroupInfo?> GroupAsync(int userId, int groupId, CancellationToken ct);

    /// <summary>
    /// The user's conversations and undelivered messages, at most <paramref name="limit"/> of them. A conversation
    /// listed in <paramref name="resume"/> (conversation id → last seq the client saw) is read from that seq instead
    /// of the cursor, though never from before the user joined it; conversations the user is not in are ignored.
    /// </summary>
    Task<Inbox> LoadInboxAsync(int userId, IReadOnlyDictionary<long, long> resume, int limit, CancellationToken ct);

    /// <summary>
    /// The <paramref name="limit"/> newest messages of a conversation with seq below <paramref name="before"/> (null: up to
    /// the newest), ascending; never from before the user joined a group. Null when the user is not in the group.
    /// </summary>
    Task<MessagePage?> HistoryAsync(int userId, long conversationId, long? before, int limit, CancellationToken ct);

    /// <summary>
    /// A conversation's entries — messages as they stand and the events after them, as a live session is sent them —
    /// with seqs strictly between <paramref name="after"/> and <paramref name="before"/>, ascending; never from before
    /// the user joined a group, nothing when the user is not in the conversation. What fills a gap in live delivery.
    /// </summary>
    Task<IReadOnlyList<StoredMessage>> EntriesAsync(int userId, long conversationId, long after, long before, CancellationToken ct);

    /// <summary>
    /// The message at <paramref name="seq"/> as <paramref name="userId"/> may see it; null when there is none, it is an
    /// event, or it lies before the user joined the group. A null user is an operator (the admin API's recall): any
    /// message of the conversation, whoever may see it, with no emoji of theirs.
    /// </summary>
    Task<MessageState?> MessageAsync(int? userId, long conversationId, long seq, CancellationToken ct);

    /// <summary>The conversation's newest seq; 0 when it has none.</summary>
    Task<long> NewestSeqAsync(long conversationId, CancellationToken ct);

    /// <summary>
    /// Takes the user out of the group: membership, cursor and read mark go. A leaving creator's role passes to the
    /// longest-standing member, who is named in the result. Null when the user was not a member.
    /// </summary>
    Task<LeftGroup?> LeaveGroupAsync(int userId, int groupId, CancellationToken ct);

    /// <summary>The group's creator <paramref name="byUserId"/> takes <paramref name="userId"/> out of the group.</summary>
    Task<RemoveResult> RemoveMemberAsync(int byUserId, int groupId, int userId, CancellationToken ct);

    /// <returns>False when <paramref name="friendId"/> does not exist; removing one who is no friend is harmless.</returns>
    Task<bool> RemoveFriendAsync(int userId, int friendId, CancellationToken ct);
}

/// <summary>Read marks, advanced in batches like delivered-cursors: no database write per READ.</summary>
public interface IReadMarkWriter
{
    /// <summary>Moves the user's read mark forward to <paramref name="seq"/> (never back).</summary>
    void Advance(int userId, long conversationId, long seq);

    /// <summary>Writes everything advanced so far.</summary>
    Task FlushAsync(CancellationToken ct);
}

/// <summary>The durable, batching message log: a message is stored before anyone hears of it.</summary>
public interface IMessageWriter
{
    /// <summary>Completes once the message is committed (or throws when the store failed).</summary>
    ValueTask<AppendResult> AppendAsync(ChatMessage message, CancellationToken ct);

    /// <summary>Messages handed over and not yet taken into a batch (for <c>/stats</c>).</summary>
    int QueueDepth { get; }
}

/// <summary>Delivered-cursors, advanced in batches after a frame reached a recipient's connection.</summary>
public interface ICursorWriter
{
    void Advance(int userId, long conversationId, long seq);

    /// <summary>Writes everything advanced so far.</summary>
    Task FlushAsync(CancellationToken ct);
}

/// <summary>
/// Session tokens, kept only as their SHA-256 (<see cref="SessionToken.Hash"/>): a stolen table logs nobody in.
/// One instance per request scope.
/// </summary>
public interface ISessionTokenStore
{
    Task AddAsync(int userId, string tokenHash, DateTimeOffset expiresAt, CancellationToken ct);

    /// <summary>The user whose token has this hash, if it has not expired by <paramref name="now"/> nor been revoked.</summary>
    Task<int?> FindUserAsync(string tokenHash, DateTimeOffset now, CancellationToken ct);

    /// <summary>Revokes every token of the user.</summary>
    Task RevokeAllAsync(int userId, CancellationToken ct);
}

/// <summary>What operators read and change through the admin API; one instance per scope.</summary>
public interface IAdminStore
{
    /// <summary>Users whose name starts with <paramref name="prefix"/> (ignoring case), by id, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<FriendInfo>> UsersByNameAsync(string prefix, int limit, CancellationToken ct);

    /// <summary>The user's ban in force at <paramref name="now"/>, or null.</summary>
    Task<Ban?> BanAsync(int userId, DateTimeOffset now, CancellationToken ct);

    /// <summary>Bans the user (replacing an earlier ban) and revokes every session token of theirs, in one transaction.</summary>
    Task BanAsync(int userId, Ban ban, DateTimeOffset now, CancellationToken ct);

    /// <returns>False when the user was not banned.</returns>
    Task<bool> LiftBanAsync(int userId, CancellationToken ct);

    /// <summary>A group with its members, whoever asks; null when there is none.</summary>
    Task<GroupInfo?> GroupAsync(int groupId, CancellationToken ct);
}

/// <summary>An operator's ban: logins are refused with <paramref name="Reason"/> until <paramref name="Until"/> (null: for good).</summary>
public sealed record Ban(string Reason, DateTimeOffset? Until)
{
    /// <summary>What a refused login is told.</summary>
    public string Refusal => Until is { } until
        ? $"banned until {until.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC: {Reason}"
        : $"banned: {Reason}";
}

