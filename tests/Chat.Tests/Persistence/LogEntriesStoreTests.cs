using Chat.Domain;
using Chat.Persistence;
using Chat.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Persistence;

/// <summary>
/// The conversation is a log (issue 21): edits, recalls and reactions take the conversation's next seq through the
/// writer and change the message they name in the same transaction; HISTORY folds them. Alike on every engine.
/// </summary>
public sealed class LogEntriesStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Events_take_the_next_seq_and_history_shows_messages_as_they_stand(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "log");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var direct = ConversationId.Direct(alice, bob);
        await store.AppendAsync(direct, alice, "hello");
        await store.AppendAsync(direct, bob, "hi");

        Assert.Equal(3, await EventAsync(store, direct, alice, EntryKind.Edit, 1, "hello, bob"));
        Assert.Equal(4, await EventAsync(store, direct, bob, EntryKind.React, 1, "👍"));
        Assert.Equal(5, await EventAsync(store, direct, alice, EntryKind.React, 1, "👍"));
        Assert.Equal(6, await EventAsync(store, direct, alice, EntryKind.React, 1, "❤️"));
        Assert.Equal(7, await EventAsync(store, direct, alice, EntryKind.React, 1, "😂"));
        Assert.Equal(8, await EventAsync(store, direct, alice, EntryKind.Unreact, 1, "❤️"));
        Assert.Equal(9, await EventAsync(store, direct, alice, EntryKind.React, 1, "👍")); // repeating is harmless

        var page = (await store.WithStoreAsync(s => s.HistoryAsync(bob, direct, null, 50, None)))!;
        Assert.Equal([1L, 2], page.Messages.Select(m => m.Seq));
        var first = page.Messages[0];
        Assert.Equal("hello, bob", first.Message.Body);
        Assert.NotNull(first.EditedTs);
        Assert.False(first.Recalled);
        Assert.Equal("👍:" + bob + "," + alice + " 😂:" + alice, Describe(first.Reactions));
        Assert.Null(page.Messages[1].EditedTs);
        Assert.Empty(page.Messages[1].Reactions);

        // Paging counts messages, not events: the newest message alone, and older ones exist.
        var newest = (await store.WithStoreAsync(s => s.HistoryAsync(bob, direct, null, 1, None)))!;
        Assert.Equal([2L], newest.Messages.Select(m => m.Seq));
        Assert.True(newest.More);

        // Resume and offline carry every entry in seq order (here alice's, as bob gets them); unread counts messages only.
        var inbox = await store.InboxAsync(bob);
        Assert.Equal([1L, 3, 5, 6, 7, 8, 9], inbox.Pending.Select(m => m.Seq));
        Assert.Equal(
            [EntryKind.Message, EntryKind.Edit, EntryKind.React, EntryKind.React, EntryKind.React, EntryKind.Unreact, EntryKind.React],
            inbox.Pending.Select(m => m.Message.Kind));
        Assert.All(inbox.Pending.Skip(1), m => Assert.Equal(1L, m.Message.Ref));
        Assert.Equal(1, inbox.Conversations.Single(c => c.ConversationId == direct).Unread);
        Assert.Equal(9, inbox.Conversations.Single(c => c.ConversationId == direct).LastSeq);

        // What fills a gap in live delivery: every entry strictly between two seqs, events too, in seq order.
        var gap = await store.WithStoreAsync(s => s.EntriesAsync(bob, direct, 2, 7, None));
        Assert.Equal([3L, 4, 5, 6], gap.Select(m => m.Seq));
        Assert.Equal([EntryKind.Edit, EntryKind.React, EntryKind.React, EntryKind.React], gap.Select(m => m.Message.Kind));
        Assert.Empty(await store.WithStoreAsync(s => s.EntriesAsync(bob, direct, 9, 20, None)));

        var state = (await store.WithStoreAsync(s => s.MessageAsync(alice, direct, 1, None)))!;
        Assert.Equal((alice, "hello, bob", false), (state.SenderId, state.Body, state.Recalled));
        Assert.Equal(["👍", "😂"], state.MyEmoji.Order(StringComparer.Ordinal));
        Assert.Null(await store.WithStoreAsync(s => s.MessageAsync(alice, direct, 3, None))); // an event is no message
        Assert.Null(await store.WithStoreAsync(s => s.MessageAsync(alice, direct, 99, None)));

        // As an operator sees it (no user): the same message, no one's emoji; an event is no message to an operator either.
        var operators = (await store.WithStoreAsync(s => s.MessageAsync(null, direct, 1, None)))!;
        Assert.Equal((alice, "hello, bob", false), (operators.SenderId, operators.Body, operators.Recalled));
        Assert.Empty(operators.MyEmoji);
        Assert.Null(await store.WithStoreAsync(s => s.MessageAsync(null, direct, 3, None)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_recall_erases_the_text_its_edits_and_its_reactions_and_nothing_changes_it_after(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "recall");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var direct = ConversationId.Direct(alice, bob);
        await store.AppendAsync(direct, alice, "secret");
        await EventAsync(store, direct, alice, EntryKind.Edit, 1, "secret, edited");
        await EventAsync(store, direct, bob, EntryKind.React, 1, "👍");
        Assert.Equal(4, await EventAsync(store, direct, alice, EntryKind.Recall, 1, ""));
        // Checked before the append, and raced by the recall: stored (it has its seq), but it changes nothing.
        Assert.Equal(5, await EventAsync(store, direct, alice, EntryKind.Edit, 1, "secret again"));
        Assert.Equal(6, await EventAsync(store, direct, bob, EntryKind.React, 1, "❤️"));

        var message = (await store.WithStoreAsync(s => s.HistoryAsync(bob, direct, null, 50, None)))!.Messages.Single();
        Assert.Equal((1L, true, "", null), (message.Seq, message.Recalled, message.Message.Body, message.EditedTs));
        Assert.Empty(message.Reactions);
        // Erased in the store, not hidden: no row holds the text, no reaction is left.
        Assert.Equal(0, await store.ScalarAsync("SELECT COUNT(*) FROM messages WHERE body LIKE '%secret%'"));
        Assert.Equal(0, await store.ScalarAsync("SELECT COUNT(*) FROM reactions"));
        Assert.True((await store.WithStoreAsync(s => s.MessageAsync(bob, direct, 1, None)))!.Recalled);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Events_in_one_batch_apply_in_seq_order_and_a_repeated_cid_is_stored_once(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "logbatch");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var direct = ConversationId.Direct(alice, bob);
        await store.AppendAsync(direct, alice, "one", "two");

        // Queued together: one batch (or a few), numbered in the order queued, each applied after the one before.
        var results = await Task.WhenAll(
            Append(store, Event(direct, bob, EntryKind.React, 1, "👍")),
            Append(store, Event(direct, alice, EntryKind.Edit, 1, "one!", cid: "e1")),
            Append(store, Event(direct, alice, EntryKind.Edit, 1, "one!", cid: "e1")),
            Append(store, Event(direct, alice, EntryKind.Recall, 2, "")),
            Append(store, Event(direct, bob, EntryKind.React, 2, "👍")),
            Append(store, MessageWriterTests.Message(direct, bob, "three") with { ReplySeq = 1 }));
        Assert.Equal([3L, 4, 4, 5, 6, 7], results.Select(r => r.Stored.Seq));
        Assert.Equal([false, false, true, false, false, false], results.Select(r => r.Duplicate));

        var page = (await store.WithStoreAsync(s => s.HistoryAsync(alice, direct, null, 50, None)))!.Messages;
        Assert.Equal([1L, 2, 7], page.Select(m => m.Seq));
        Assert.Equal(("one!", "👍:" + bob), (page[0].Message.Body, Describe(page[0].Reactions)));
        Assert.Equal((true, ""), (page[1].Recalled, Describe(page[1].Reactions)));
        Assert.Equal(new ReplyQuote(1, alice, "user" + alice, "one!", false), page[2].Reply);
        Assert.Equal(1, await store.ScalarAsync("SELECT COUNT(*) FROM messages WHERE kind = 1"));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_reply_quotes_its_first_100_characters_or_that_it_was_recalled_and_group_messages_before_a_join_are_not_visible(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "reply");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var group = (await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "g", "d", null, None)))!.Value;
        var conversation = ConversationId.Group(group);
        var longText = new string('x', 99) + "😀" + "tail";
        await store.AppendAsync(conversation, alice, "before the join", longText);
        await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group, None));
        await store.AppendAsync(conversation, alice, "after the join");

        Assert.Null(await store.WithStoreAsync(s => s.MessageAsync(bob, conversation, 2, None)));
        Assert.NotNull(await store.WithStoreAsync(s => s.MessageAsync(alice, conversation, 2, None)));
        Assert.Equal("after the join", (await store.WithStoreAsync(s => s.MessageAsync(bob, conversation, 3, None)))!.Body);
        Assert.Equal([3L], (await store.WithStoreAsync(s => s.EntriesAsync(bob, conversation, 0, 10, None))).Select(m => m.Seq)); // not from before the join
        Assert.Empty(await store.WithStoreAsync(s => s.EntriesAsync(bob + alice, conversation, 0, 10, None))); // not in the group at all
        Assert.Equal("before the join", (await store.WithStoreAsync(s => s.MessageAsync(null, conversation, 1, None)))!.Body); // an operator sees any

        await Append(store, MessageWriterTests.Message(conversation, alice, "re: long") with { ReplySeq = 2 });
        await Append(store, MessageWriterTests.Message(conversation, alice, "re: first") with { ReplySeq = 1 });
        await EventAsync(store, conversation, alice, EntryKind.Recall, 1, "");

        var page = (await store.WithStoreAsync(s => s.HistoryAsync(alice, conversation, null, 2, None)))!.Messages;
        Assert.Equal([4L, 5], page.Select(m => m.Seq));
        Assert.Equal(new string('x', 99), page[0].Reply!.Text); // never half a surrogate pair
        Assert.Equal(new ReplyQuote(1, alice, "user" + alice, "", true), page[1].Reply);
    }

    internal static ChatMessage Event(long conversation, int sender, EntryKind kind, long target, string body, string? cid = null) =>
        MessageWriterTests.Message(conversation, sender, body, cid) with { Kind = kind, Ref = target };

    /// <summary>Each event a millisecond after the last one at least: reactions list users in the order they reacted (by ts).</summary>
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Reactions_made_before_they_were_folded_into_their_message_are_folded_when_the_database_is_upgraded(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "fold");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var direct = ConversationId.Direct(alice, bob);
        await store.AppendAsync(direct, alice, "hello", "unread");
        await EventAsync(store, direct, bob, EntryKind.React, 1, "👍");
        await EventAsync(store, direct, alice, EntryKind.React, 1, ":)");
        await EventAsync(store, direct, alice, EntryKind.React, 1, "👍");

        // Back to the release before the fold (its column dropped; the reaction rows stay), then upgraded again.
        await using (var scope = store.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            var migrator = db.GetService<IMigrator>();
            var migrations = db.Database.GetMigrations().ToList();
            var fold = migrations.FindIndex(m => m.EndsWith("_FoldedReactions", StringComparison.Ordinal));
            Assert.True(fold > 0, "the migration that folds reactions");
            await migrator.MigrateAsync(migrations[fold - 1]);
            await migrator.MigrateAsync();
        }

        var page = (await store.WithStoreAsync(s => s.HistoryAsync(alice, direct, null, 50, None)))!;
        Assert.Equal("👍:" + bob + "," + alice + " :):" + alice, Describe(page.Messages[0].Reactions));
        Assert.Empty(page.Messages[1].Reactions);
    }

    private static async Task<long> EventAsync(StoreHost store, long conversation, int sender, EntryKind kind, long target, string body)
    {
        var ts = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Interlocked.Increment(ref _lastTs));
        Interlocked.Exchange(ref _lastTs, ts);
        return (await Append(store, Event(conversation, sender, kind, target, body) with { Ts = ts })).Stored.Seq;
    }

    private static long _lastTs;

    private static Task<AppendResult> Append(StoreHost store, ChatMessage message) =>
        store.Writer.AppendAsync(message, None).AsTask();

    private static string Describe(IReadOnlyList<ReactionGroup> reactions) =>
        string.Join(" ", reactions.Select(r => r.Emoji + ":" + string.Join(",", r.UserIds)));
}
