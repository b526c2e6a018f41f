using Chat.Server.Sessions;

namespace Chat.Tests.Sessions;

[Trait("Kind", "Unit")]
public sealed class SeqWatermarkTests
{
    [Fact]
    public void Moves_only_over_an_unbroken_run()
    {
        var mark = new SeqWatermark(3);

        Assert.True(mark.Add(4));
        Assert.False(mark.Add(6));
        Assert.False(mark.Add(7));
        Assert.Equal(4, mark.Contiguous);
        Assert.True(mark.Add(5));
        Assert.Equal(7, mark.Contiguous);
    }

    [Fact]
    public void Knows_what_it_has_seen_on_both_sides_of_a_gap()
    {
        var mark = new SeqWatermark(10);
        mark.Add(12);

        Assert.True(mark.Contains(9));
        Assert.True(mark.Contains(10));
        Assert.False(mark.Contains(11));
        Assert.True(mark.Contains(12));
        Assert.False(mark.Add(12));
        Assert.False(mark.Add(2));
    }
}
