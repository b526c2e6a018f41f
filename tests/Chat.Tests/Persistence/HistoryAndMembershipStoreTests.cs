using Chat.Domain;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Persistence;

/// <summary>History pages, read marks and unread counts, leaving and removing: alike on every engine.</summary>
public sealed class HistoryAndMembershipStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task History_pages_go_back_by_seq_ascending_within_a_page_with_more_while_older_ones_exist(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "history");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var direct = ConversationId.Direct(alice, bob);
        await store.AppendAsync(direct, alice, "m1", "m2", "m3");
        await store.AppendAsync(direct, bob, "m4", "m5");

        var newest = await HistoryAsync(store, alice, direct, before: null, limit: 2);
        var older = await HistoryAsync(store, alice, direct, before: 4, limit: 2);
        var oldest = await HistoryAsync(store, alice, direct, before: 2, limit: 2);
        var beyond = await HistoryAsync(store, bob, direct, before: 1_000, limit: 200);

        Assert.Equal("m4 m5, more", Describe(newest));
        Assert.Equal("m2 m3, more", Describe(older));
        Assert.Equal("m1", Describe(oldest));
        Assert.Equal("m1 m2 m3 m4 m5", Describe(beyond));
        Assert.Equal([1L, 2, 3, 4, 5], beyond.Messages.Select(m => m.Seq));
        // Each message names the participant it was sent to, whoever asks.
        Assert.Equal([bob, bob, bob, alice, alice], beyond.Messages.Select(m => m.Message.TargetId));
        Assert.Equal([alice, alice, alice, bob, bob], beyond.Messages.Select(m => m.Message.SenderId));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Group_history_starts_where_the_member_joined_and_is_nobody_elses(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "ghistory");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var carol = await store.RegisterAsync("carol");
        var group = (await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "g", "d", null, None)))!.Value;
        var conversation = ConversationId.Group(group);
        await store.AppendAsync(conversation, alice, "before1", "before2");
        await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group, None));
        await store.AppendAsync(conversation, alice, "after");

        var bobs = await HistoryAsync(store, bob, conversation, before: null, limit: 50);
        var alices = await HistoryAsync(store, alice, conversation, before: null, limit: 50);

        Assert.Equal("after", Describe(bobs));
        Assert.Equal("before1 before2 after", Describe(alices));
        Assert.Null(await store.WithStoreAsync(s => s.HistoryAsync(carol, conversation, null, 50, None)));
        var empty = await HistoryAsync(store, alice, ConversationId.Direct(alice, carol), before: null, limit: 50);
        Assert.Equal((0, false), (empty.Messages.Count, empty.More));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Read_marks_move_forward_only_and_unread_counts_messages_from_others_after_them(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "reads");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var direct = ConversationId.Direct(alice, bob);
        var group = (await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "g", "d", null, None)))!.Value;
        var groupConversation = ConversationId.Group(group);
        await store.AppendAsync(groupConversation, alice, "g1", "g2", "g3");
        await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group, None));
        await store.AppendAsync(groupConversation, alice, "g4", "g5");
        await store.AppendAsync(direct, alice, "d1", "d2", "d3", "d4");
        await store.AppendAsync(direct, bob, "d5");
        Assert.Equal(5, await store.WithStoreAsync(s => s.NewestSeqAsync(direct, None)));
        Assert.Equal(0, await store.WithStoreAsync(s => s.NewestSeqAsync(ConversationId.Direct(bob, 999), None)));

        var marks = store.Services.GetRequiredService<IReadMarkWriter>();
        marks.Advance(bob, direct, 2);
        await marks.FlushAsync(None);
        marks.Advance(bob, direct, 1); // never back
        await marks.FlushAsync(None);

        var bobs = (await store.InboxAsync(bob)).Conversations.ToDictionary(c => c.ConversationId);
        var alices = (await store.InboxAsync(alice)).Conversations.ToDictionary(c => c.ConversationId);
        Assert.Equal((5L, 2L, 2L), (bobs[direct].LastSeq, bobs[direct].Read, bobs[direct].Unread)); // d3, d4: d5 is his own
        Assert.Equal((5L, 3L, 2L), (bobs[groupConversation].LastSeq, bobs[groupConversation].Read, bobs[groupConversation].Unread));
        Assert.Equal((0L, 1L), (alices[direct].Read, alices[direct].Unread));
        Assert.Equal((0L, 0L), (alices[groupConversation].Read, alices[groupConversation].Unread));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_leaving_creator_passes_the_role_to_the_longest_standing_member_and_the_group_is_no_longer_theirs(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "leave");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var carol = await store.RegisterAsync("carol");
        var group = (await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "g", "d", null, None)))!.Value;
        await store.WithStoreAsync(s => s.JoinGroupAsync(carol, group, None));
        await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group, None));
        await store.AppendAsync(ConversationId.Group(group), carol, "hello");
        // Joining again answers where the member's delivered-cursor stands: a newcomer's at the group's end.
        var dave = await store.RegisterAsync("dave");
        Assert.Equal((JoinResult.Joined, 1L), await store.WithStoreAsync(s => s.JoinGroupAsync(dave, group, None)));
        Assert.Equal((JoinResult.AlreadyMember, 1L), await store.WithStoreAsync(s => s.JoinGroupAsync(dave, group, None)));
        Assert.Equal(new LeftGroup(null), await store.WithStoreAsync(s => s.LeaveGroupAsync(dave, group, None)));

        Assert.Equal(new LeftGroup(carol), await store.WithStoreAsync(s => s.LeaveGroupAsync(alice, group, None)));
        Assert.Null(await store.WithStoreAsync(s => s.LeaveGroupAsync(alice, group, None)));

        Assert.Empty(await store.WithStoreAsync(s => s.GroupsAsync(alice, None)));
        Assert.Null(await store.WithStoreAsync(s => s.HistoryAsync(alice, ConversationId.Group(group), null, 50, None)));
        Assert.DoesNotContain((await store.InboxAsync(alice)).Conversations, c => c.ConversationId == ConversationId.Group(group));
        Assert.Null(await store.WithStoreAsync(s => s.GroupAsync(alice, group, None)));
        var members = (await store.WithStoreAsync(s => s.GroupsAsync(bob, None))).Single().Members;
        Assert.Equal(members, (await store.WithStoreAsync(s => s.GroupAsync(bob, group, None)))!.Members);
        Assert.Equal([new GroupMemberInfo(bob, "bob", GroupRole.Normal), new GroupMemberInfo(carol, "carol", GroupRole.Creator)], members);

        // Everyone leaves; the next to join is in charge. A returning member starts at the group's end again.
        await store.WithStoreAsync(s => s.LeaveGroupAsync(bob, group, None));
        await store.WithStoreAsync(s => s.LeaveGroupAsync(carol, group, None));
        Assert.Equal((JoinResult.Joined, 1L), await store.WithStoreAsync(s => s.JoinGroupAsync(alice, group, None)));
        Assert.Equal(GroupRole.Creator, (await store.WithStoreAsync(s => s.GroupsAsync(alice, None))).Single().Members.Single().Role);
        Assert.Empty((await HistoryAsync(store, alice, ConversationId.Group(group), null, 50)).Messages);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Only_the_creator_removes_members_never_themselves_and_friends_are_removed_one_direction(string provider)
    {
        await using var store = await StoreHost.StartAsync(provider, "remove");
        var alice = await store.RegisterAsync("alice");
        var bob = await store.RegisterAsync("bob");
        var carol = await store.RegisterAsync("carol");
        var dave = await store.RegisterAsync("dave");
        var group = (await store.WithStoreAsync(s => s.CreateGroupAsync(alice, "g", "d", null, None)))!.Value;
        await store.WithStoreAsync(s => s.JoinGroupAsync(bob, group, None));
        await store.WithStoreAsync(s => s.JoinGroupAsync(carol, group, None));

        Task<RemoveResult> Remove(int by, int groupId, int user) => store.WithStoreAsync(s => s.RemoveMemberAsync(by, groupId, user, None));
        Assert.Equal(RemoveResult.NoSuchGroup, await Remove(alice, int.MaxValue, bob));
        Assert.Equal(RemoveResult.NotMember, await Remove(dave, group, bob));
        Assert.Equal(RemoveResult.NotAllowed, await Remove(bob, group, carol));
        Assert.Equal(RemoveResult.NotAllowed, await Remove(bob, group, alice));
        Assert.Equal(RemoveResult.NotAllowed, await Remove(alice, group, alice));
        Assert.Equal(RemoveResult.NoSuchMember, await Remove(alice, group, dave));
        Assert.Equal(RemoveResult.Removed, await Remove(alice, group, bob));
        Assert.Equal(RemoveResult.NoSuchMember, await Remove(alice, group, bob));
        Assert.Empty(await store.WithStoreAsync(s => s.GroupsAsync(bob, None)));
        Assert.Equal([alice, carol], (await store.WithStoreAsync(s => s.GroupsAsync(alice, None))).Single().Members.Select(m => m.Id));

        await store.WithStoreAsync(s => s.AddFriendAsync(alice, bob, None));
        await store.WithStoreAsync(s => s.AddFriendAsync(bob, alice, None));
        Assert.True(await store.WithStoreAsync(s => s.RemoveFriendAsync(alice, bob, None)));
        Assert.True(await store.WithStoreAsync(s => s.RemoveFriendAsync(alice, bob, None)));
        Assert.False(await store.WithStoreAsync(s => s.RemoveFriendAsync(alice, int.MaxValue, None)));
        Assert.Empty(await store.WithStoreAsync(s => s.FriendsAsync(alice, None)));
        Assert.Equal([alice], (await store.WithStoreAsync(s => s.FriendsAsync(bob, None))).Select(f => f.Id));
    }

    private static async Task<MessagePage> HistoryAsync(StoreHost store, int user, long conversation, long? before, int limit) =>
        (await store.WithStoreAsync(s => s.HistoryAsync(user, conversation, before, limit, None)))!;

    /// <summary>The page's bodies, oldest first, and ", more" when older ones exist.</summary>
    private static string Describe(MessagePage page) => string.Join(' ', page.Messages.Select(m => m.Message.Body)) + (page.More ? ", more" : "");
}
