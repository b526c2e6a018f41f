using Chat.Domain;
using Microsoft.EntityFrameworkCore;

namespace Chat.Persistence;

/// <summary>The relational side through EF Core: one instance (and one <see cref="ChatDbContext"/>) per scope.</summary>
public sealed partial class ChatStore(ChatDbContext db, DatabaseProvider provider, TimeProvider time, WebhookOutbox? webhooks = null) : IChatStore
{
    public async Task<int?> RegisterAsync(string name, string passwordHash, CancellationToken ct)
    {
        // Checked first so that the common refusal is not a failed INSERT (which EF logs as an error);
        // the unique index still decides a race.
        if (await db.Users.AnyAsync(u => u.Name == name, ct))
        {
            return null;
        }

        var user = new UserEntity { Name = name, PasswordHash = passwordHash };
        db.Users.Add(user);
        if (webhooks is null)
        {
            return await TrySaveAsync(ct) ? user.Id : null;
        }

        // Webhooks on: user.registered goes to the outbox in the registration's transaction (issue 24).
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await TrySaveAsync(ct))
        {
            return null;
        }

        db.WebhookOutbox.Add(WebhookOutbox.Registered(user.Id, name, time.GetUtcNow().ToUnixTimeMilliseconds()));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        db.ChangeTracker.Clear();
        return user.Id;
    }

    public async Task<UserAccount?> FindUserAsync(int id, CancellationToken ct) =>
        await db.Users.AsNoTracking()
            .Where(u => u.Id == id)
            .Select(u => new UserAccount(u.Id, u.Name, u.PasswordHash))
            .FirstOrDefaultAsync(ct);

    public Task<bool> UserExistsAsync(int id, CancellationToken ct) =>
        db.Users.AnyAsync(u => u.Id == id, ct);

    public async Task<bool> AddFriendAsync(int userId, int friendId, CancellationToken ct)
    {
        if (!await db.Users.AnyAsync(u => u.Id == friendId, ct))
        {
            return false;
        }

        if (await db.Friends.AnyAsync(f => f.UserId == userId && f.FriendId == friendId, ct))
        {
            return true;
        }

        db.Friends.Add(new FriendEntity { UserId = userId, FriendId = friendId });
        await TrySaveAsync(ct); // a unique violation here means a concurrent add won: still friends
        return true;
    }

    public async Task<IReadOnlyList<FriendInfo>> FriendsAsync(int userId, CancellationToken ct) =>
        await (from f in db.Friends.AsNoTracking()
               join u in db.Users.AsNoTracking() on f.FriendId equals u.Id
               where f.UserId == userId
               orderby u.Id
               select new FriendInfo(u.Id, u.Name))
            .ToListAsync(ct);

    public async Task<int?> CreateGroupAsync(int creatorId, string name, string description, string? clientId, CancellationToken ct)
    {
        if (await db.Groups.AnyAsync(g => g.Name == name, ct))
        {
            return await RepeatedAsync(creatorId, name, clientId, ct);
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var group = new GroupEntity { Name = name, Description = description, CreatorId = creatorId, ClientId = clientId };
        db.Groups.Add(group);
        if (!await TrySaveAsync(ct))
        {
            await tx.RollbackAsync(ct);
            return await RepeatedAsync(creatorId, name, clientId, ct);
        }

        db.GroupMembers.Add(new GroupMemberEntity { GroupId = group.Id, UserId = creatorId, Role = GroupRole.Creator, JoinedAt = Now });
        db.Cursors.Add(new CursorEntity { UserId = creatorId, ConversationId = ConversationId.Group(group.Id), DeliveredSeq = 0 });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return group.Id;
    }

    /// <summary>The group named <paramref name="name"/> when this creator made it with this cid; otherwise null (taken).</summary>
    private async Task<int?> RepeatedAsync(int creatorId, string name, string? clientId, CancellationToken ct) =>
        clientId is null
            ? null
            : await db.Groups.AsNoTracking()
                .Where(g => g.Name == name && g.CreatorId == creatorId && g.ClientId == clientId)
                .Select(g => (int?)g.Id)
                .FirstOrDefaultAsync(ct);

    public async Task<(JoinResult Result, long StartSeq)> JoinGroupAsync(int userId, int groupId, CancellationToken ct)
    {
        if (!await db.Groups.AnyAsync(g => g.Id == groupId, ct))
        {
            return (JoinResult.NoSuchGroup, 0);
        }

        var conversation = ConversationId.Group(groupId);
        if (await db.GroupMembers.AnyAsync(m => m.GroupId == groupId && m.UserId == userId, ct))
        {
            return (JoinResult.AlreadyMember, await DeliveredAsync(userId, conversation, ct));
        }

        // A new member starts at the group's current end: no old history.
        var lastSeq = await db.Conversations
            .Where(c => c.Id == conversation)
            .Select(c => (long?)c.LastSeq)
            .FirstOrDefaultAsync(ct) ?? 0;

        // The first member of a group everyone left takes the creator's role: a group always has someone in charge.
        var role = await db.GroupMembers.AnyAsync(m => m.GroupId == groupId, ct) ? GroupRole.Normal : GroupRole.Creator;
        db.GroupMembers.Add(new GroupMemberEntity { GroupId = groupId, UserId = userId, Role = role, JoinedAt = Now });
        db.Cursors.Add(new CursorEntity { UserId = userId, ConversationId = conversation, DeliveredSeq = lastSeq, FromSeq = lastSeq, ReadSeq = lastSeq });
        return await TrySaveAsync(ct) ? (JoinResult.Joined, lastSeq) : (JoinResult.AlreadyMember, await DeliveredAsync(userId, conversation, ct));
    }

    private Task<long> DeliveredAsync(int userId, long conversation, CancellationToken ct) =>
        db.Cursors.AsNoTracking()
            .Where(c => c.UserId == userId && c.ConversationId == conversation)
            .Select(c => c.DeliveredSeq)
            .FirstOrDefaultAsync(ct);

    public Task<IReadOnlyList<GroupInfo>> GroupsAsync(int userId, CancellationToken ct) => GroupsAsync(userId, null, ct);

    public async Task<GroupInfo?> GroupAsync(int userId, int groupId, CancellationToken ct) =>
        (await GroupsAsync(userId, groupId, ct)).SingleOrDefault();

    /// <summary>The user's groups with their members; with <paramref name="only"/>, just that one.</summary>
    private Task<IReadOnlyList<GroupInfo>> GroupsAsync(int userId, int? only, CancellationToken ct) =>
        GroupsWithMembersAsync(db, db.GroupMembers.Where(m => m.UserId == userId && (only == null || m.GroupId == only)).Select(m => m.GroupId), ct);

    /// <summary>The groups named by <paramref name="ids"/> (a query), by id, each with its members by id.</summary>
    internal static async Task<IReadOnlyList<GroupInfo>> GroupsWithMembersAsync(ChatDbContext db, IQueryable<int> ids, CancellationToken ct)
    {
        var groups = await db.Groups.AsNoTracking()
            .Where(g => ids.Contains(g.Id))
            .OrderBy(g => g.Id)
            .Select(g => new { g.Id, g.Name, g.Description })
            .ToListAsync(ct);
        if (groups.Count == 0)
        {
            return [];
        }

        var members = await (from m in db.GroupMembers.AsNoTracking()
                             join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                             where ids.Contains(m.GroupId)
                             orderby m.GroupId, u.Id
                             select new { m.GroupId, Member = new GroupMemberInfo(u.Id, u.Name, m.Role) })
            .ToListAsync(ct);
        var byGroup = members.ToLookup(m => m.GroupId, m => m.Member);

        return [.. groups.Select(g => new GroupInfo(g.Id, g.Name, g.Description, [.. byGroup[g.Id]]))];
    }

    public async Task<Inbox> LoadInboxAsync(int userId, IReadOnlyDictionary<long, long> resume, int limit, CancellationToken ct)
    {
        var rows = await (from c in db.Cursors.AsNoTracking()
                          where c.UserId == userId
                          join v in db.Conversations.AsNoTracking() on c.ConversationId equals v.Id into vs
                          from v in vs.DefaultIfEmpty()
                          select new { c.ConversationId, c.DeliveredSeq, c.FromSeq, c.ReadSeq, LastSeq = (long?)v.LastSeq })
            .ToListAsync(ct);

        var readFrom = new Dictionary<long, long>(rows.Count);
        var unreadAfter = new Dictionary<long, long>(rows.Count);
        var conversations = new List<ConversationState>(rows.Count);
        foreach (var row in rows)
        {
            var last = row.LastSeq ?? 0;
            var from = resume.TryGetValue(row.ConversationId, out var seen)
                ? Math.Clamp(seen, row.FromSeq, Math.Max(row.FromSeq, last))
                : row.DeliveredSeq;
            if (from < last)
            {
                readFrom[row.ConversationId] = from;
            }

            var read = Math.Min(Math.Max(row.ReadSeq, row.FromSeq), last);
            if (read < last)
            {
                unreadAfter[row.ConversationId] = Math.Max(read, last - MaxUnreadCounted);
            }

            conversations.Add(new ConversationState(row.ConversationId, row.DeliveredSeq, Math.Max(from, row.DeliveredSeq), last, read));
        }

        var unread = await UnreadAsync(userId, unreadAfter, ct);
        var pending = readFrom.Count == 0
            ? []
            : await provider.MessagesAfter(db, [.. readFrom.Keys], [.. readFrom.Values])
                .Where(m => m.SenderId != userId)
                .OrderBy(m => m.Ts).ThenBy(m => m.ConversationId).ThenBy(m => m.Seq)
                .Take(limit)
                .AsNoTracking()
                .ToListAsync(ct);

        var quotes = await QuotesAsync(pending, ct);
        return new Inbox(
            [.. conversations.Select(c => c with { Unread = unread.GetValueOrDefault(c.ConversationId) })],
            await WithFilesAsync(InSeqOrder(pending).Select(m => ToStored(m, quotes)).ToList(), ct));
    }

    /// <summary>
    /// Unread messages are counted among a conversation's newest this many only, so a login costs the same however far
    /// behind the read mark is (a seed client never sends READ): beyond it a badge says "999+" anyway.
    /// </summary>
    public const int MaxUnreadCounted = 1000;

    /// <summary>Per conversation, the messages from others after the user's read mark: one query for all of them.</summary>
    private async Task<Dictionary<long, long>> UnreadAsync(int userId, Dictionary<long, long> readMarks, CancellationToken ct)
    {
        if (readMarks.Count == 0)
        {
            return [];
        }

        var counts = await provider.MessagesAfter(db, [.. readMarks.Keys], [.. readMarks.Values])
            .Where(m => m.SenderId != userId && m.Kind == EntryKind.Message)
            .GroupBy(m => m.ConversationId)
            .Select(g => new { g.Key, Count = g.LongCount() })
            .ToListAsync(ct);
        return counts.ToDictionary(c => c.Key, c => c.Count);
    }

    /// <summary>
    /// The entries of a conversation the user may see: those after where it starts for them (their cursor's
    /// <c>FromSeq</c>: when they joined the group, or where retention cut it); none without a cursor.
    /// </summary>
    private IQueryable<MessageEntity> Visible(int userId, long conversationId) =>
        from m in db.Messages.AsNoTracking()
        join c in db.Cursors.AsNoTracking() on m.ConversationId equals c.ConversationId
        where c.UserId == userId && m.ConversationId == conversationId && m.Seq > c.FromSeq
        select m;

    public async Task<MessagePage?> HistoryAsync(int userId, long conversationId, long? before, int limit, CancellationToken ct)
    {
        // One statement in the common case: the user's cursor (a primary-key lookup) bounds a backward range scan of the
        // messages' primary key (conversation_id, seq), stopped after limit + 1 rows, each with its file's id (a key
        // lookup); reactions are folded into the row. Files' records and replies' quotes cost one more each, if any.
        var below = before ?? long.MaxValue;
        var newest = await (from m in Visible(userId, conversationId)
                            join l in db.MessageFiles.AsNoTracking() on new { m.ConversationId, m.Seq } equals new { l.ConversationId, l.Seq } into links
                            from l in links.DefaultIfEmpty()
                            where m.Seq < below && m.Kind == EntryKind.Message
                            orderby m.Seq descending
                            select new { Message = m, FileId = l == null ? null : l.FileId })
            .Take(limit + 1)
            .ToListAsync(ct);
        if (newest.Count == 0
            && ConversationId.IsGroup(conversationId)
            && !await db.Cursors.AnyAsync(c => c.UserId == userId && c.ConversationId == conversationId, ct))
        {
            return null; // not the user's group (a direct conversation without a cursor has no message yet)
        }

        var more = newest.Count > limit;
        var page = newest.Take(limit).Reverse().ToList();
        // The last page says where the conversation now starts for the user (retention may have erased its beginning).
        long? start = more
            ? null
            : await Visible(userId, conversationId).Select(m => (long?)m.Seq).MinAsync(ct);
        var quotes = await QuotesAsync([.. page.Select(r => r.Message)], ct);
        var files = await FileCatalog.RefsAsync(db, [.. page.Select(r => r.FileId).OfType<string>()], ct);
        return new MessagePage(
            [.. page.Select(r =>
            {
                var stored = ToStored(r.Message, quotes);
                return stored with
                {
                    Message = r.FileId is { } file ? stored.Message with { File = files[file] } : stored.Message,
                    Reactions = r.Message.Recalled ? [] : ReactionFold.Read(r.Message.Reactions),
                };
            })],
            more)
        {
            Start = start,
        };
    }

    public async Task<IReadOnlyList<StoredMessage>> EntriesAsync(int userId, long conversationId, long after, long before, CancellationToken ct)
    {
        var entries = await Visible(userId, conversationId)
            .Where(m => m.Seq > after && m.Seq < before)
            .OrderBy(m => m.Seq)
            .ToListAsync(ct);
        var quotes = await QuotesAsync(entries, ct);
        return await WithFilesAsync([.. entries.Select(m => ToStored(m, quotes))], ct);
    }

    public async Task<MessageState?> MessageAsync(int? userId, long conversationId, long seq, CancellationToken ct)
    {
        var message = await db.Messages.AsNoTracking()
            .Where(m => m.ConversationId == conversationId && m.Seq == seq && m.Kind == EntryKind.Message)
            .Select(m => new { m.SenderId, m.SenderName, m.Body, m.Ts, m.Recalled })
            .FirstOrDefaultAsync(ct);
        if (message is null)
        {
            return null;
        }

        if (userId is not { } user)
        {
            // An operator: whoever may see it, and no emoji of their own.
            return new MessageState(seq, message.SenderId, message.SenderName, message.Body, message.Ts, message.Recalled, []);
        }

        if (ConversationId.IsGroup(conversationId))
        {
            // Not the user's to see before they joined (nor at all when they are not in the group).
            var from = await db.Cursors.AsNoTracking()
                .Where(c => c.UserId == user && c.ConversationId == conversationId)
                .Select(c => (long?)c.FromSeq)
                .FirstOrDefaultAsync(ct);
            if (from is not { } start || seq <= start)
            {
                return null;
            }
        }

        var mine = await db.Reactions.AsNoTracking()
            .Where(r => r.ConversationId == conversationId && r.Seq == seq && r.UserId == user)
            .Select(r => r.Emoji)
            .ToListAsync(ct);
        return new MessageState(seq, message.SenderId, message.SenderName, message.Body, message.Ts, message.Recalled, mine);
    }

    /// <summary>The messages the given ones reply to, as they stand now (a recalled one quotes nothing).</summary>
    private async Task<Dictionary<(long Conversation, long Seq), ReplyQuote>> QuotesAsync(List<MessageEntity> messages, CancellationToken ct)
    {
        var quotes = new Dictionary<(long, long), ReplyQuote>();
        foreach (var conversation in messages.Where(m => m.ReplySeq is not null).GroupBy(m => m.ConversationId))
        {
            var id = conversation.Key;
            var seqs = conversation.Select(m => m.ReplySeq!.Value).Distinct().ToList();
            var quoted = await db.Messages.AsNoTracking()
                .Where(m => m.ConversationId == id && seqs.Contains(m.Seq))
                .Select(m => new { m.Seq, m.SenderId, m.SenderName, m.Body, m.Recalled })
                .ToListAsync(ct);
            foreach (var q in quoted)
            {
                quotes[(id, q.Seq)] = ReplyQuote.Of(q.Seq, q.SenderId, q.SenderName, q.Body, q.Recalled);
            }
        }

        return quotes;
    }

    public async Task<long> NewestSeqAsync(long conversationId, CancellationToken ct) =>
        await db.Conversations.AsNoTracking()
            .Where(c => c.Id == conversationId)
            .Select(c => (long?)c.LastSeq)
            .FirstOrDefaultAsync(ct) ?? 0;

    public async Task<LeftGroup?> LeaveGroupAsync(int userId, int groupId, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await db.GroupMembers.FirstOrDefaultAsync(m => m.GroupId == groupId && m.UserId == userId, ct) is not { } member)
        {
            return null;
        }

        await TakeOutAsync(member, ct);
        var heir = member.Role == GroupRole.Creator
            ? await db.GroupMembers.Where(m => m.GroupId == groupId).OrderBy(m => m.JoinedAt).ThenBy(m => m.UserId).FirstOrDefaultAsync(ct)
            : null;
        if (heir is not null)
        {
            heir.Role = GroupRole.Creator;
            await db.SaveChangesAsync(ct);
        }

        await tx.CommitAsync(ct);
        return new LeftGroup(heir?.UserId);
    }

    public async Task<RemoveResult> RemoveMemberAsync(int byUserId, int groupId, int userId, CancellationToken ct)
    {
        if (!await db.Groups.AnyAsync(g => g.Id == groupId, ct))
        {
            return RemoveResult.NoSuchGroup;
        }

        var roles = await db.GroupMembers
            .Where(m => m.GroupId == groupId && (m.UserId == byUserId || m.UserId == userId))
            .ToListAsync(ct);
        var by = roles.Find(m => m.UserId == byUserId);
        var member = roles.Find(m => m.UserId == userId);
        if (by is null)
        {
            return RemoveResult.NotMember;
        }

        if (by.Role != GroupRole.Creator || userId == byUserId)
        {
            return RemoveResult.NotAllowed;
        }

        if (member is null)
        {
            return RemoveResult.NoSuchMember;
        }

        await TakeOutAsync(member, ct);
        return RemoveResult.Removed;
    }

    public async Task<bool> RemoveFriendAsync(int userId, int friendId, CancellationToken ct)
    {
        if (!await db.Users.AnyAsync(u => u.Id == friendId, ct))
        {
            return false;
        }

        await db.Friends.Where(f => f.UserId == userId && f.FriendId == friendId).ExecuteDeleteAsync(ct);
        return true;
    }

    /// <summary>Deletes a membership with its cursor (and so its read mark): the group is no longer the user's conversation.</summary>
    private async Task TakeOutAsync(GroupMemberEntity member, CancellationToken ct)
    {
        var conversation = ConversationId.Group(member.GroupId);
        db.GroupMembers.Remove(member);
        await db.SaveChangesAsync(ct);
        await db.Cursors.Where(c => c.UserId == member.UserId && c.ConversationId == conversation).ExecuteDeleteAsync(ct);
    }

    private long Now => time.GetUtcNow().UtcTicks;

    /// <summary>
    /// Oldest first across conversations, but within one conversation strictly by seq: two messages stamped at
    /// nearly the same moment may have taken their seqs in the other order.
    /// </summary>
    private static List<MessageEntity> InSeqOrder(List<MessageEntity> messages)
    {
        var bySeq = messages.GroupBy(m => m.ConversationId)
            .ToDictionary(g => g.Key, g => new Queue<MessageEntity>(g.OrderBy(m => m.Seq)));
        return [.. messages.Select(m => bySeq[m.ConversationId].Dequeue())];
    }

    /// <summary>The message as stored; a direct message's target is the participant who did not send it.</summary>
    private static StoredMessage ToStored(MessageEntity m, Dictionary<(long Conversation, long Seq), ReplyQuote> quotes) =>
        new(new ChatMessage(
                m.ConversationId,
                m.SenderId,
                m.SenderName,
                ConversationId.IsGroup(m.ConversationId) ? (int)m.ConversationId : ConversationId.Peer(m.ConversationId, m.SenderId),
                m.Body,
                m.ClientTime,
                m.Ts,
                m.ClientId)
            {
                Kind = m.Kind,
                Ref = m.RefSeq,
                ReplySeq = m.ReplySeq,
            },
            m.Seq)
        {
            EditedTs = m.Recalled ? null : m.EditedTs,
            Recalled = m.Recalled,
            Reply = m.ReplySeq is { } reply && quotes.TryGetValue((m.ConversationId, reply), out var quote) ? quote : null,
        };

    /// <returns>False when a unique constraint refused the changes; they are then discarded.</returns>
    private async Task<bool> TrySaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (provider.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }
}
