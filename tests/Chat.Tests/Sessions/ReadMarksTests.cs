using Chat.Server.Sessions;

namespace Chat.Tests.Sessions;

[Trait("Kind", "Unit")]
public sealed class ReadMarksTests
{
    [Fact]
    public void A_mark_moves_forward_only_from_where_login_left_it()
    {
        var marks = new ReadMarks();
        marks.Set(-5, 10);

        Assert.False(marks.TryMove(-5, 10));
        Assert.False(marks.TryMove(-5, 3));
        Assert.True(marks.TryMove(-5, 11));
        Assert.False(marks.TryMove(-5, 11));
        Assert.True(marks.TryMove(7, 1)); // a conversation that began after login starts at nothing read
    }
}
