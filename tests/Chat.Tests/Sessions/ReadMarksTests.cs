using Chat.Protocol;
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

    [Fact]
    public void Only_a_member_gone_push_names_a_group_its_recipient_left()
    {
        var removed = Delivery.PushToUser(1, 3, ServerFrames.MemberGone(8, 3, by: 1));
        var left = Delivery.PushToUser(3, 3, ServerFrames.MemberGone(9, 3, by: null));
        var notice = Delivery.PushToUser(1, 3, ServerFrames.ReadNotice(1, 1, null, 4));
        var chat = Delivery.Of(new Chat.Domain.StoredMessage(new Chat.Domain.ChatMessage(8, 1, "a", 8, "{\"msgid\":22}", "t", 1, null), 1));

        Assert.Equal((8, 9), (removed.GroupLeft, left.GroupLeft));
        Assert.Null(notice.GroupLeft);
        Assert.Null(chat.GroupLeft);
    }
}
