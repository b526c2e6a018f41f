using Chat.Client;
using Chat.Protocol;

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
