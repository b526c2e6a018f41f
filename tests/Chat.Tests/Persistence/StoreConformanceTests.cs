using Chat.Domain;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Persistence;

/// <summary>
/// Every store behaviour on every engine: MariaDB (the card's MySQL), PostgreSQL and SQLite must answer alike.
/// The writer's own guarantees (gapless seq, cids, draining) are in <see cref="MessageWriterTests"/>.
/// </summary>
public sealed class StoreConformanceTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>Texts a database tends to mangle: 4-byte UTF-8, quotes and SQL metacharacters, escapes.</summary>
    public static TheoryData<string, string> AwkwardTexts()
    {
        string[] texts =
        [
            "😀 emoji and 𠀀 CJK extension B",
            "O'Brien \"quoted\" `backticked` ; DROP TABLE users; --",
            @"back\slash \0 \n \' %_ $1 @p0 ? :name",
            "tab\tand\r\nnewline",
            "   leading and trailing   ",
            "ＦＵＬＬＷＩＤＴＨ 全角 é e\u0301 ß ẞ",
        ];
        var data = new TheoryData<string, string>();
        foreach (var provider in TestDatabase.Engines)
        {
            foreach (var text in texts)
            {
                data.Add(provider, text);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Session_tokens_are_found_by_hash_until_they_expire_or_are_revoked(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "tokens");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var now = DateTimeOffset.UtcNow;
        var live = SessionToken.Hash(SessionToken.New());
        var other = SessionToken.Hash(SessionToken.New());
        var expired = SessionToken.Hash(SessionToken.New());
        var bobs = SessionToken.Hash(SessionToken.New());
        await store.WithTokensAsync(async t =>
        {
            await t.AddAsync(alice, live, now.AddDays(30), None);
            await t.AddAsync(alice, other, now.AddDays(30), None);
            await t.AddAsync(alice, expired, now.AddSeconds(-1), None);
            await t.AddAsync(bob, bobs, now.AddDays(30), None);
            return 0;
        });

        Assert.Equal(alice, await store.WithTokensAsync(t => t.FindUserAsync(live, now, None)));
        Assert.Equal(alice, await store.WithTokensAsync(t => t.FindUserAsync(other, now, None)));
        Assert.Null(await store.WithTokensAsync(t => t.FindUserAsync(expired, now, None)));
        Assert.Null(await store.WithTokensAsync(t => t.FindUserAsync(live.ToUpperInvariant(), now, None)));
        Assert.Null(await store.WithTokensAsync(t => t.FindUserAsync(live, now.AddDays(31), None)));

        await store.WithTokensAsync(async t => { await t.RevokeAllAsync(alice, None); return 0; });
        Assert.Null(await store.WithTokensAsync(t => t.FindUserAsync(live, now, None)));
        Assert.Null(await store.WithTokensAsync(t => t.FindUserAsync(other, now, None)));
        Assert.Equal(bob, await store.WithTokensAsync(t => t.FindUserAsync(bobs, now, None)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Accounts_names_are_unique_exactly_as_typed(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "accounts");

        var bob = await store.WithStoreAsync(s => s.RegisterAsync("bob", "hash-1", None));
        var again = await store.WithStoreAsync(s => s.RegisterAsync("bob", "hash-2", None));
        var upper = await store.WithStoreAsync(s => s.RegisterAsync("Bob", "hash-3", None));
        var accented = await store.WithStoreAsync(s => s.RegisterAsync("böb", "hash-4", None));

        Assert.NotNull(bob);
        Assert.Null(again);
        Assert.NotNull(upper);
        Assert.NotNull(accented);
        Assert.Equal(3, new[] { bob, upper, accented }.Distinct().Count());
        Assert.Equal(new UserAccount(bob!.Value, "bob", "hash-1"), await store.WithStoreAsync(s => s.FindUserAsync(bob.Value, None)));
        Assert.True(await store.WithStoreAsync(s => s.UserExistsAsync(upper!.Value, None)));
        Assert.Null(await store.WithStoreAsync(s => s.FindUserAsync(int.MaxValue, None)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Friends_are_added_once_and_listed_by_id(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "friends");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var carol = await store.RegisterAsync("carol");

        Assert.False(await store.WithStoreAsync(s => s.AddFriendAsync(alice, int.MaxValue, None)));
        Assert.True(await store.WithStoreAsync(s => s.AddFriendAsync(alice, carol, None)));
        Assert.True(await store.WithStoreAsync(s => s.AddFriendAsync(alice, bob, None)));
        Assert.True(await store.WithStoreAsync(s => s.AddFriendAsync(alice, bob, None)));
        var concurrently = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.WithStoreAsync(s => s.AddFriendAsync(bob, alice, None))));

        Assert.All(concurrently, Assert.True);
        Assert.Equal([new FriendInfo(bob, "bob"), new FriendInfo(carol, "carol")], await store.WithStoreAsync(s => s.FriendsAsync(alice, None)));
        Assert.Equal([new FriendInfo(alice, "alice")], await store.WithStoreAsync(s => s.FriendsAsync(bob, None)));
        Assert.Empty(await store.WithStoreAsync(s => s.FriendsAsync(carol, None)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Groups_names_are_unique_a_resent_create_gets_its_group_and_members_are_listed(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "groups");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");

        var group = await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "team", "the team", "c1", None));
        var resent = await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "team", "the team", "c1", None));
        var taken = await store.WithStoreAsync(s => s.CreateGroupAsync(bob, "team", "mine", "c1", None));
        var other = await store.WithStoreAsync(s => s.CreateGroupAsync(bob, "Team", "case differs", null, None));

        Assert.NotNull(group);
        Assert.Equal(group, resent);
        Assert.Null(taken);
        Assert.NotNull(other);
        Assert.Equal((JoinResult.NoSuchGroup, 0L), await store.WithStoreAsync(s => s.JoinGroupAsync(bob, int.MaxValue, None)));
        Assert.Equal((JoinResult.Joined, 0L), await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group!.Value, None)));
        Assert.Equal(JoinResult.AlreadyMember, (await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group!.Value, None))).Result);

        var bobs = await store.WithStoreAsync(s => s.GroupsAsync(bob, None));
        Assert.Equal([group!.Value, other!.Value], bobs.Select(g => g.Id));
        Assert.Equal(("team", "the team"), (bobs[0].Name, bobs[0].Description));
        Assert.Equal([new GroupMemberInfo(alice, "alice", GroupRole.Creator), new GroupMemberInfo(bob, "bob", GroupRole.Normal)], bobs[0].Members);
        Assert.Empty(await store.WithStoreAsync(s => s.GroupsAsync(int.MaxValue, None)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_inbox_is_oldest_first_limited_and_resumes_from_any_seq_but_never_before_joining(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "inbox");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var group = (await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "g", "d", null, None)))!.Value;
        var direct = ConversationId.Direct(alice, bob);
        var groupConversation = ConversationId.Group(group);
        await store.AppendAsync(groupConversation, alice, "g1", "g2");
        await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group, None));
        await store.AppendAsync(direct, alice, "d1", "d2", "d3");
        await store.AppendAsync(groupConversation, alice, "g3");

        var all = await store.InboxAsync(bob);
        var limited = await store.InboxAsync(bob, limit: 2);
        var resumed = await store.InboxAsync(bob, new Dictionary<long, long> { [direct] = 2, [groupConversation] = 0 });

        Assert.Equal(["d1", "d2", "d3", "g3"], Bodies(all));
        Assert.Equal(["d1", "d2"], Bodies(limited));
        Assert.Equal(["d3", "g3"], Bodies(resumed)); // the group from where bob joined (seq 2), not from 0
        Assert.Equal(new ConversationState(groupConversation, 2, 2, 3, Read: 2, Unread: 1), all.Conversations.Single(c => c.ConversationId == groupConversation));
        Assert.Equal(new ConversationState(direct, 0, 0, 3, Read: 0, Unread: 3), all.Conversations.Single(c => c.ConversationId == direct));
        Assert.All(all.Pending.Where(p => p.Message.ConversationId == direct), p => Assert.Equal(bob, p.Message.TargetId));

        store.Services.GetRequiredService<ICursorWriter>().Advance(bob, direct, 3);
        await store.Services.GetRequiredService<ICursorWriter>().FlushAsync(None);
        Assert.Equal(["g3"], Bodies(await store.InboxAsync(bob)));
        Assert.Empty((await store.InboxAsync(alice)).Pending); // one's own messages are not pending
    }

    [Theory]
    [MemberData(nameof(AwkwardTexts))]
    public async Task Awkward_text_is_stored_and_returned_exactly(string provider, string text)
    {
        await using var store = await StoreHost.StartAsync(provider, "awkward");
        var name = text.Trim()[..Math.Min(text.Trim().Length, 64)];
        var user = (await store.WithStoreAsync(s => s.RegisterAsync(name, text, None)))!.Value;
        var peer = await store.RegisterAsync("peer");
        var group = (await store.WithStoreAsync(s => s.CreateGroupAsync(user, name, text, text.Trim()[..Math.Min(text.Trim().Length, 64)], None)))!.Value;
        var longText = string.Concat(Enumerable.Repeat(text, (4096 / text.Length) + 1))[..4096];
        longText = char.IsHighSurrogate(longText[^1]) ? longText[..^1] + "x" : longText;

        var direct = ConversationId.Direct(user, peer);
        var stored = await store.Writer.AppendAsync(MessageWriterTests.Message(direct, user, longText, cid: name, target: peer) with { SenderName = name, ClientTime = name }, None);
        var repeat = await store.Writer.AppendAsync(MessageWriterTests.Message(direct, user, "other", cid: name, target: peer), None);
        await store.Writer.AppendAsync(MessageWriterTests.Message(ConversationId.Group(group), user, text, target: group), None);

        Assert.Equal(new UserAccount(user, name, text), await store.WithStoreAsync(s => s.FindUserAsync(user, None)));
        Assert.Equal((name, text), await store.WithStoreAsync(async s => (await s.GroupsAsync(user, None)).Select(g => (g.Name, g.Description)).Single()));
        Assert.Equal(group, await store.WithStoreAsync(s => s.CreateGroupAsync(user, name, text, text.Trim()[..Math.Min(text.Trim().Length, 64)], None)));
        Assert.True(repeat.Duplicate);
        Assert.Equal((stored.Stored.Seq, longText), (repeat.Stored.Seq, repeat.Stored.Message.Body));
        var pending = Assert.Single((await store.InboxAsync(peer)).Pending);
        Assert.Equal((longText, name, name), (pending.Message.Body, pending.Message.SenderName, pending.Message.ClientTime));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task What_no_engine_can_store_is_refused_before_it_reaches_one(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "refused");
        var conversation = ConversationId.Direct(1, 2);

        foreach (var body in new[] { "nul\0byte", "lone \ud800 high", "lone \udc00 low", "\ud800" })
        {
            await Assert.ThrowsAsync<ArgumentException>(async () => await store.Writer.AppendAsync(MessageWriterTests.Message(conversation, 1, body), None));
        }

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.Writer.AppendAsync(MessageWriterTests.Message(conversation, 1, "x", cid: "c1 "), None));
        Assert.Equal(0, await store.ScalarAsync("SELECT count(*) FROM messages"));
    }

    private static string[] Bodies(Inbox inbox) => [.. inbox.Pending.Select(p => p.Message.Body)];
}
