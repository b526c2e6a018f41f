using Chat.Protocol;
using Chat.Sdk;

namespace Chat.Tests.Client;

[Trait("Kind", "Unit")]
public sealed class SeenSeqsTests
{
    private static readonly Conversation Bob = new(false, 2);
    private static readonly Conversation Team = new(true, 2);

    [Fact]
    public void A_seq_is_accepted_once_per_conversation()
    {
        var seen = new SeenSeqs();

        Assert.True(seen.TryAccept(Bob, 1));
        Assert.True(seen.TryAccept(Bob, 2));
        Assert.False(seen.TryAccept(Bob, 2));
        Assert.False(seen.TryAccept(Bob, 1));
        Assert.True(seen.TryAccept(Team, 1)); // same id, other kind of conversation
        Assert.True(seen.TryAccept(Bob, 5)); // gaps are fine: a group skips the sender's own messages
    }

    [Fact]
    public void A_one_to_one_conversation_is_named_by_the_other_user_and_a_group_by_its_id()
    {
        var fromAlice = new ChatPush(false, 1, "alice", 2, "m", "t", 1, 0);
        var aliceEdits = new EventPush(MsgId.Edit, false, 1, "alice", 2, 2, 1, "m2", true, 0);

        Assert.Equal(new Conversation(false, 1), Conversation.Of(fromAlice, me: 2));
        Assert.Equal(new Conversation(false, 2), Conversation.Of(fromAlice, me: 1));
        Assert.Equal(new Conversation(true, 5), Conversation.Of(fromAlice with { IsGroup = true, TargetId = 5 }, me: 2));
        Assert.Equal(new Conversation(false, 1), Conversation.Of(aliceEdits, me: 2));
        Assert.Equal(new Conversation(false, 2), Conversation.Of(aliceEdits, me: 1));
    }

    [Fact]
    public void A_noted_seq_of_ones_own_is_seen_and_never_lowers_what_was()
    {
        var seen = new SeenSeqs();
        seen.Note(Bob, 4);
        seen.Note(Bob, 2);

        Assert.Equal(4, seen.Last(Bob));
        Assert.False(seen.TryAccept(Bob, 3));
        Assert.Equal(0, seen.Last(Team));
    }

    [Fact]
    public void Resume_points_are_the_last_seq_of_each_conversation()
    {
        var seen = new SeenSeqs();
        seen.TryAccept(Bob, 1);
        seen.TryAccept(Bob, 3);
        seen.TryAccept(Team, 7);

        Assert.Equal(
            [new ResumePoint(Peer: 2, GroupId: null, 3), new ResumePoint(Peer: null, GroupId: 2, 7)],
            seen.ResumePoints().OrderBy(p => p.GroupId.HasValue));

        seen.Clear();
        Assert.Empty(seen.ResumePoints());
    }
}
