using System.Globalization;
using Chat.Domain;
using Chat.Persistence;
using Chat.Tests.Infrastructure;
using Chat.Tests.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Persistence;

/// <summary>The batching writers on every engine (MariaDB, PostgreSQL, SQLite), one fresh database per test.</summary>
public sealed class MessageWriterTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Concurrent_senders_get_gap_free_seqs_in_their_own_order(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "writer_gapfree");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        long[] conversations = [ConversationId.Group(1), ConversationId.Group(2), ConversationId.Direct(1, 2)];
        const int senders = 40, perSender = 60;

        var results = await Task.WhenAll(Enumerable.Range(1, senders).Select(async sender =>
        {
            var mine = new List<(long Conversation, long Seq)>();
            for (var i = 0; i < perSender; i++)
            {
                var conversation = conversations[i % conversations.Length];
                var stored = await writer.AppendAsync(Message(conversation, sender, $"m{i}"), CancellationToken.None);
                Assert.False(stored.Duplicate);
                mine.Add((conversation, stored.Stored.Seq));
            }

            return mine;
        }));

        foreach (var mine in results)
        {
            foreach (var group in mine.GroupBy(r => r.Conversation))
            {
                Assert.Equal(group.Select(r => r.Seq).Order(), group.Select(r => r.Seq)); // a sender's order is kept
            }
        }

        foreach (var group in results.SelectMany(r => r).GroupBy(r => r.Conversation))
        {
            Assert.Equal(Enumerable.Range(1, group.Count()).Select(i => (long)i), group.Select(r => r.Seq).Order());
            Assert.Equal(group.Count(), await store.ScalarAsync($"SELECT last_seq FROM conversations WHERE id = {group.Key}"));
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Messages_queued_all_at_once_are_numbered_gap_free_and_new_direct_conversations_get_cursors(string provider)
    {
        // 1,200 appends queued before the writer takes any: batches far larger than one command's parameters (MySQL's
        // one-round-trip path then falls back to a statement per step), and many new direct conversations.
        await using var store = await StoreHost.StartAsync(provider, "writer_burst");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var appends = Enumerable.Range(0, 1_200)
            .Select(i => (Conversation: ConversationId.Direct(1_000 + (i % 300), 5_000 + (i % 300)), Sender: 1_000 + (i % 300), Cid: $"burst-{i}"))
            .Select(m => (m.Conversation, Append: writer.AppendAsync(Message(m.Conversation, m.Sender, m.Cid, m.Cid), CancellationToken.None).AsTask()))
            .ToList();
        await Task.WhenAll(appends.Select(a => a.Append));

        foreach (var conversation in appends.GroupBy(a => a.Conversation))
        {
            Assert.Equal([1L, 2, 3, 4], conversation.Select(a => a.Append.Result.Stored.Seq));
            Assert.Equal(4, await store.ScalarAsync($"SELECT last_seq FROM conversations WHERE id = {conversation.Key}"));
            Assert.Equal(2, await store.ScalarAsync($"SELECT COUNT(*) FROM cursors WHERE conversation_id = {conversation.Key} AND delivered_seq = 0"));
        }

        Assert.Equal(1_200, await store.ScalarAsync("SELECT COUNT(*) FROM messages"));
    }

    /// <summary>Every engine, and MariaDB once more as if it were MySQL (no RETURNING: the seqs read back by a SELECT).</summary>
    public static TheoryData<string, string?> ProvidersAndMySql
    {
        get
        {
            var data = new TheoryData<string, string?>();
            foreach (var engine in TestDatabase.Engines)
            {
                data.Add(engine, null);
            }

            data.Add("mysql", "8.0.36-mysql");
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ProvidersAndMySql))]
    public async Task Later_batches_number_on_in_the_database_as_answered_and_a_conversation_beginning_among_known_ones_gets_its_cursors(string provider, string? serverVersion)
    {
        // Each row must hold exactly the seq its sender was told, in batches of conversations that began earlier and of
        // one that begins among them.
        await using var store = await StoreHost.StartAsync(
            provider, "writer_later", serverVersion is null ? null : new Dictionary<string, string?> { ["Chat:Store:MySqlServerVersion"] = serverVersion });
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var (known, fresh, group) = (ConversationId.Direct(11, 12), ConversationId.Direct(11, 13), ConversationId.Group(14));
        (long Conversation, string Body)[][] batches =
        [
            [(known, "k1")],
            [(known, "k2"), (fresh, "f1"), (known, "k3"), (group, "g1")], // one conversation begins among known ones
            [(known, "k4"), (group, "g2"), (known, "k5"), (fresh, "f2"), (group, "g3")], // all begun
        ];

        var told = new List<(long Conversation, string Body, long Seq)>();
        foreach (var batch in batches)
        {
            var appends = batch.Select(m => (m, writer.AppendAsync(Message(m.Conversation, 11, m.Body), CancellationToken.None).AsTask())).ToList();
            foreach (var (m, append) in appends)
            {
                told.Add((m.Conversation, m.Body, (await append).Stored.Seq));
            }
        }

        Assert.Equal([1L, 2, 3, 4, 5], told.Where(t => t.Conversation == known).Select(t => t.Seq));
        Assert.Equal([1L, 2], told.Where(t => t.Conversation == fresh).Select(t => t.Seq));
        Assert.Equal([1L, 2, 3], told.Where(t => t.Conversation == group).Select(t => t.Seq));
        foreach (var (conversation, body, seq) in told)
        {
            Assert.Equal(1, await store.ScalarAsync($"SELECT COUNT(*) FROM messages WHERE conversation_id = {conversation} AND seq = {seq} AND body = '{body}'"));
        }

        Assert.Equal(2, await store.ScalarAsync($"SELECT COUNT(*) FROM cursors WHERE conversation_id = {fresh} AND delivered_seq = 0"));
        Assert.Equal(2, await store.ScalarAsync($"SELECT COUNT(*) FROM cursors WHERE conversation_id = {known} AND delivered_seq = 0"));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_conversation_whose_row_vanished_under_a_running_writer_is_stored_from_seq_1_again(string provider)
    {
        // A database emptied under a running writer (here: the rows deleted) numbers from 1 again; nothing the writer
        // remembers may assume the rows are still there.
        await using var store = await StoreHost.StartAsync(provider, "writer_vanished");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var (direct, group) = (ConversationId.Direct(21, 22), ConversationId.Group(23));
        await writer.AppendAsync(Message(direct, 21, "before"), CancellationToken.None);
        await writer.AppendAsync(Message(group, 21, "before"), CancellationToken.None);

        await store.ScalarAsync($"DELETE FROM messages WHERE conversation_id IN ({direct}, {group})");
        await store.ScalarAsync($"DELETE FROM conversations WHERE id IN ({direct}, {group})");
        var again = await Task.WhenAll(
            writer.AppendAsync(Message(direct, 21, "after"), CancellationToken.None).AsTask(),
            writer.AppendAsync(Message(group, 21, "after"), CancellationToken.None).AsTask());

        Assert.Equal([1L, 1L], again.Select(a => a.Stored.Seq));
        Assert.Equal(1, await store.ScalarAsync($"SELECT COUNT(*) FROM messages WHERE conversation_id = {direct} AND seq = 1 AND body = 'after'"));
        Assert.Equal(1, await store.ScalarAsync($"SELECT last_seq FROM conversations WHERE id = {group}"));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_repeated_cid_is_stored_once_and_answered_with_the_stored_message(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "writer_cid");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var conversation = ConversationId.Direct(7, 8);

        var first = await writer.AppendAsync(Message(conversation, 7, "original", "c1"), CancellationToken.None);
        var again = await writer.AppendAsync(Message(conversation, 7, "resent", "c1"), CancellationToken.None);
        var sameBatch = await Task.WhenAll(
            writer.AppendAsync(Message(conversation, 7, "x", "c2"), CancellationToken.None).AsTask(),
            writer.AppendAsync(Message(conversation, 7, "y", "c2"), CancellationToken.None).AsTask());
        var otherSender = await writer.AppendAsync(Message(conversation, 8, "mine", "c1"), CancellationToken.None);

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Stored.Seq, again.Stored.Seq);
        Assert.Equal("original", again.Stored.Message.Body);
        Assert.Equal(8, again.Stored.Message.TargetId);
        Assert.False(sameBatch[0].Duplicate);
        Assert.True(sameBatch[1].Duplicate);
        Assert.Equal(sameBatch[0].Stored.Seq, sameBatch[1].Stored.Seq);
        Assert.False(otherSender.Duplicate);
        Assert.Equal(3, await store.ScalarAsync($"SELECT count(*) FROM messages WHERE conversation_id = {conversation}"));
        Assert.Equal(3, await store.ScalarAsync($"SELECT last_seq FROM conversations WHERE id = {conversation}"));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_new_direct_conversation_reaches_the_recipients_inbox_until_its_cursor_advances(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "writer_inbox");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var cursors = store.Services.GetRequiredService<ICursorWriter>();
        var conversation = ConversationId.Direct(alice, bob);

        await writer.AppendAsync(Message(conversation, alice, "one", target: bob), CancellationToken.None);
        await writer.AppendAsync(Message(conversation, alice, "two", target: bob), CancellationToken.None);

        var inbox = await store.InboxAsync(bob);
        Assert.Equal(0, inbox.Conversations.Single(c => c.ConversationId == conversation).Cursor);
        Assert.Equal(["one", "two"], inbox.Pending.Select(p => p.Message.Body));
        Assert.All(inbox.Pending, p => Assert.Equal(bob, p.Message.TargetId));
        Assert.Empty((await store.InboxAsync(alice)).Pending); // one's own messages are not pending

        cursors.Advance(bob, conversation, 2);
        cursors.Advance(bob, conversation, 1); // never backwards
        await cursors.FlushAsync(CancellationToken.None);
        inbox = await store.InboxAsync(bob);
        Assert.Equal(2, inbox.Conversations.Single(c => c.ConversationId == conversation).Cursor);
        Assert.Empty(inbox.Pending);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_member_who_joins_later_gets_no_old_group_history(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "writer_join");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        int group;
        await using (var scope = store.Services.CreateAsyncScope())
        {
            group = (await scope.ServiceProvider.GetRequiredService<IChatStore>().CreateGroupAsync(alice, "g", "d", null, CancellationToken.None))!.Value;
        }

        await writer.AppendAsync(Message(ConversationId.Group(group), alice, "before", target: group), CancellationToken.None);
        await using (var scope = store.Services.CreateAsyncScope())
        {
            var joined = await scope.ServiceProvider.GetRequiredService<IChatStore>().JoinGroupAsync(bob, group, CancellationToken.None);
            Assert.Equal((JoinResult.Joined, 1L), joined);
        }

        await writer.AppendAsync(Message(ConversationId.Group(group), alice, "after", target: group), CancellationToken.None);
        var pending = (await store.InboxAsync(bob)).Pending;
        Assert.Equal(["after"], pending.Select(p => p.Message.Body));
        Assert.Equal(group, pending[0].Message.TargetId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Stopping_commits_everything_queued_then_refuses_more(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "writer_drain");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var appends = Enumerable.Range(0, 5_000)
            .Select(i => writer.AppendAsync(Message(ConversationId.Group(3), 1, $"m{i}"), CancellationToken.None).AsTask())
            .ToList();

        await store.Host.StopAsync();

        Assert.All(appends, a => Assert.True(a.IsCompletedSuccessfully));
        Assert.Equal(5_000, await store.ScalarAsync("SELECT count(*) FROM messages"));
        await Assert.ThrowsAnyAsync<InvalidOperationException>(
            async () => await writer.AppendAsync(Message(ConversationId.Group(3), 1, "late"), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_message_the_database_would_refuse_fails_alone_not_its_batch(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "writer_bad");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var good = writer.AppendAsync(Message(ConversationId.Group(4), 1, "fine"), CancellationToken.None).AsTask();

        await Assert.ThrowsAsync<ArgumentException>(
            async () => await writer.AppendAsync(Message(ConversationId.Group(4), 1, "nul\0byte"), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(
            async () => await writer.AppendAsync(Message(ConversationId.Group(4), 1, "lone \ud800 surrogate"), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(
            async () => await writer.AppendAsync(Message(ConversationId.Group(4), 1, "x", new string('c', 65)), CancellationToken.None));

        Assert.Equal(1, (await good).Stored.Seq);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Each_batch_leaves_a_mark_with_its_seqs_and_a_lane_keeps_only_its_last_64_to_128(string provider)
    {
        // The mark is what a writer reads after a commit whose reply was lost (UnknownCommitTests): it must be written
        // by every engine's statement, name each fresh message's seq, and not grow without end. Every 64th batch deletes
        // the marks 64 or more batches older: after 200 batches, 129 to 200 are left.
        await using var store = await StoreHost.StartAsync(provider, "writer_marks");
        var writer = store.Services.GetRequiredService<IMessageWriter>();
        var conversation = ConversationId.Direct(31, 32);
        for (var i = 1; i <= 200; i++)
        {
            Assert.Equal(i, (await writer.AppendAsync(Message(conversation, 31, $"m{i}"), CancellationToken.None)).Stored.Seq);
        }

        Assert.Equal(72, await store.ScalarAsync("SELECT COUNT(*) FROM append_marks"));
        Assert.Equal(129, await store.ScalarAsync("SELECT MIN(batch) FROM append_marks"));
        Assert.Equal(1, await store.ScalarAsync("SELECT COUNT(*) FROM append_marks WHERE seqs = '1:200'"));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task With_a_commit_delay_a_batch_waits_for_as_many_senders_as_the_last_and_a_lone_sender_never_waits(string provider)
    {
        // Group commit's wait (Chat:Store:CommitDelay): four senders, each pausing before its next message, 20, 40, 60
        // and 80 ms (far less than the delay), so their messages arrive apart. After a batch of several, the writer
        // waits for the others' next messages instead of committing each alone: batches of several all along. Without
        // the wait every message, 20 ms from the next, is a batch of its own.
        var settings = new Dictionary<string, string?> { ["Chat:Store:CommitDelay"] = "00:00:01" };
        await using var store = await StoreHost.StartAsync(provider, "writer_delay", settings);
        using var metrics = new MetricCapture(store.Services);
        var writer = store.Writer;

        // Alone, nobody is waited for: ten in a row, each at once (ten delays would be 10 s).
        var alone = ConversationId.Direct(51, 52);
        await Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await writer.AppendAsync(Message(alone, 51, $"alone {i}"), CancellationToken.None);
            }
        }).WaitAsync(TimeSpan.FromSeconds(5));
        var before = metrics.Count("chat.store.batch.size");

        const int each = 6;
        async Task SendAsync(int sender, TimeSpan pause)
        {
            for (var i = 0; i < each; i++)
            {
                await writer.AppendAsync(Message(ConversationId.Direct(sender, 60), sender, $"m{i}"), CancellationToken.None);
                await Task.Delay(pause);
            }
        }

        var gate = new TaskCompletionSource();
        var senders = Enumerable.Range(1, 4)
            .Select(i => Task.Run(async () => { await gate.Task; await SendAsync(60 + i, TimeSpan.FromMilliseconds(20 * i)); }))
            .ToList();
        gate.SetResult();
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));

        var batches = metrics.Matching("chat.store.batch.size").Skip(before).Select(m => (int)m.Value).ToList();
        Assert.Equal(4 * each, batches.Sum());
        Assert.True(batches.Count <= 2 * each, $"batches: {string.Join(", ", batches)}"); // two or more a batch on average
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_culture_that_spells_minus_otherwise_changes_nothing_stored(string provider)
    {
        // The writers spell numbers into their statements, and a direct conversation's id is negative: under a culture
        // whose minus sign is U+2212 (the writer lanes run in the culture they started in) they must still write SQL's.
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NegativeSign = "\u2212";
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = culture;
        try
        {
            Assert.StartsWith("\u2212", ConversationId.Direct(41, 42).ToString(culture));
            await using var store = await StoreHost.StartAsync(provider, "writer_culture");
            var conversation = ConversationId.Direct(41, 42);
            await store.AppendAsync(conversation, 41, "one", "two");
            Assert.Equal(2, await store.ScalarAsync($"SELECT COUNT(*) FROM messages WHERE conversation_id = {conversation.ToString(CultureInfo.InvariantCulture)}"));
            Assert.Equal(2, await store.ScalarAsync($"SELECT COUNT(*) FROM cursors WHERE conversation_id = {conversation.ToString(CultureInfo.InvariantCulture)}"));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    internal static ChatMessage Message(long conversation, int sender, string body, string? cid = null, int? target = null) =>
        new(conversation,
            sender,
            $"user{sender}",
            target ?? (ConversationId.IsGroup(conversation) ? (int)conversation : ConversationId.Peer(conversation, sender)),
            body,
            "2026-11-21 10:00:00",
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            cid);
}
