using Chat.Client;
using Chat.Protocol;

namespace Chat.Tests.Client;

[Trait("Kind", "Unit")]
public sealed class LiveCommandTests
{
    [Fact]
    public void Typing_names_a_friend_or_a_group_and_needs_a_positive_id()
    {
        Assert.Equal(new Command.Typing(false, 12), Command.Parse("typing:12"));
        Assert.Equal(new Command.Typing(true, 3), Command.Parse("grouptyping: 3"));
        Assert.IsType<Command.Invalid>(Command.Parse("typing:bob"));
        Assert.IsType<Command.Invalid>(Command.Parse("grouptyping"));
        Assert.Contains(Command.Usage, line => line.StartsWith("typing :", StringComparison.Ordinal));
    }

    [Fact]
    public void Presence_and_typing_print_as_lines()
    {
        Assert.Equal("friend [7] is online", Format.Presence(new PresenceMessage(7, true)));
        Assert.Equal("friend [7] is offline", Format.Presence(new PresenceMessage(7, false)));
        Assert.Equal("[7] ann is typing...", Format.Typing(new TypingMessage(7, "ann", 7, null)));
        Assert.Equal("group message[4]: [7] ann is typing...", Format.Typing(new TypingMessage(7, "ann", null, 4)));
    }
}
