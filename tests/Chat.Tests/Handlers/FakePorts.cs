using Chat.Domain;

namespace Chat.Tests.Handlers;

/// <summary>In-memory stand-ins for the Domain ports: handlers run against them with no database.</summary>
public sealed class FakeStore : IChatStore
{
    private readonly Dictionary<int, UserAccount> _users = [];
    private readonly Lock _gate = new();

    public Task<int?> RegisterAsync(string name, string passwordHash, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_users.Values.Any(u => u.Name == name))
            {
                return Task.FromResult<int?>(null);
            }

            var id = _users.Count + 1;
            _users[id] = new UserAccount(id, name, passwordHash);
            return Task.FromResult<int?>(id);
        }
    }

    public Task<UserAccount?> FindUserAsync(int id, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_users.GetValueOrDefault(id));
    }

    public Task<bool> UserExistsAsync(int id, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_users.ContainsKey(id));
    }

    public Task<bool> AddFriendAsync(int userId, int friendId, CancellationToken ct) => UserExistsAsync(friendId, ct);

    public Task<IReadOnlyList<FriendInfo>> FriendsAsync(int userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<FriendInfo>>([]);

    public Task<int?> CreateGroupAsync(int creatorId, string name, string description, string? clientId, CancellationToken ct) =>
        Task.FromResult<int?>(1);

    public Task<(JoinResult Result, long StartSeq)> JoinGroupAsync(int userId, int groupId, CancellationToken ct) =>
        Task.FromResult((JoinResult.NoSuchGroup, 0L));

    public Task<IReadOnlyList<GroupInfo>> GroupsAsync(int userId, CancellationToken ct) => Task.FromResult<IReadOnlyList<GroupInfo>>([]);

    public Task<GroupInfo?> GroupAsync(int userId, int groupId, CancellationToken ct) => Task.FromResult<GroupInfo?>(null);

    public Task<Inbox> LoadInboxAsync(int userId, IReadOnlyDictionary<long, long> resume, int limit, CancellationToken ct) =>
        Task.FromResult(new Inbox([], []));

    public Task<MessagePage?> HistoryAsync(int userId, long conversationId, long? before, int limit, CancellationToken ct) =>
        Task.FromResult<MessagePage?>(ConversationId.IsGroup(conversationId) ? null : new MessagePage([], false));

    public Task<IReadOnlyList<StoredMessage>> EntriesAsync(int userId, long conversationId, long after, long before, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<StoredMessage>>([]);

    public Task<long> NewestSeqAsync(long conversationId, CancellationToken ct) => Task.FromResult(0L);

    public Task<MessageState?> MessageAsync(int? userId, long conversationId, long seq, CancellationToken ct) => Task.FromResult<MessageState?>(null);

    public Task<LeftGroup?> LeaveGroupAsync(int userId, int groupId, CancellationToken ct) => Task.FromResult<LeftGroup?>(null);

    public Task<RemoveResult> RemoveMemberAsync(int byUserId, int groupId, int userId, CancellationToken ct) =>
        Task.FromResult(RemoveResult.NoSuchGroup);

    public Task<bool> RemoveFriendAsync(int userId, int friendId, CancellationToken ct) => UserExistsAsync(friendId, ct);
}

/// <summary>A message log whose appends complete only when the test says so, in order.</summary>
public sealed class HeldWriter : IMessageWriter
{
    private readonly Queue<(ChatMessage Message, TaskCompletionSource<AppendResult> Done)> _held = new();
    private long _seq;

    public int Held
    {
        get
        {
            lock (_held) return _held.Count;
        }
    }

    public int QueueDepth => Held;

    public ValueTask<AppendResult> AppendAsync(ChatMessage message, CancellationToken ct)
    {
        var done = new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_held) _held.Enqueue((message, done));
        return new ValueTask<AppendResult>(done.Task);
    }

    /// <summary>Stores the oldest <paramref name="count"/> held messages.</summary>
    public void Store(int count)
    {
        for (var i = 0; i < count; i++)
        {
            (ChatMessage Message, TaskCompletionSource<AppendResult> Done) next;
            lock (_held) next = _held.Dequeue();
            next.Done.SetResult(new AppendResult(new StoredMessage(next.Message, ++_seq), Duplicate: false));
        }
    }

    /// <summary>The oldest held message fails with <paramref name="failure"/>, as a database driver might fail a commit.</summary>
    public void Fail(Exception failure)
    {
        TaskCompletionSource<AppendResult> done;
        lock (_held) done = _held.Dequeue().Done;
        done.SetException(failure);
    }
}

public sealed class NoCursors : ICursorWriter, IReadMarkWriter
{
    public void Advance(int userId, long conversationId, long seq)
    {
    }

    public Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Session tokens in memory, by hash, as the real store keeps them.</summary>
public sealed class FakeTokens : ISessionTokenStore
{
    private readonly Dictionary<string, (int UserId, DateTimeOffset ExpiresAt)> _tokens = [];
    private readonly Lock _gate = new();

    public Task AddAsync(int userId, string tokenHash, DateTimeOffset expiresAt, CancellationToken ct)
    {
        lock (_gate) _tokens[tokenHash] = (userId, expiresAt);
        return Task.CompletedTask;
    }

    public Task<int?> FindUserAsync(string tokenHash, DateTimeOffset now, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult(_tokens.TryGetValue(tokenHash, out var t) && t.ExpiresAt > now ? t.UserId : (int?)null);
        }
    }

    public Task RevokeAllAsync(int userId, CancellationToken ct)
    {
        lock (_gate)
        {
            foreach (var hash in _tokens.Where(t => t.Value.UserId == userId).Select(t => t.Key).ToList())
            {
                _tokens.Remove(hash);
            }
        }

        return Task.CompletedTask;
    }
}

/// <summary>Nobody is banned; the admin API's other reads find nothing.</summary>
public sealed class NoBans : IAdminStore
{
    public Task<IReadOnlyList<FriendInfo>> UsersByNameAsync(string prefix, int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<FriendInfo>>([]);

    public Task<Ban?> BanAsync(int userId, DateTimeOffset now, CancellationToken ct) => Task.FromResult<Ban?>(null);

    public Task BanAsync(int userId, Ban ban, DateTimeOffset now, CancellationToken ct) => throw new NotSupportedException("no bans in unit tests");

    public Task<bool> LiftBanAsync(int userId, CancellationToken ct) => Task.FromResult(false);

    public Task<GroupInfo?> GroupAsync(int groupId, CancellationToken ct) => Task.FromResult<GroupInfo?>(null);
}
