using Chat.Client;

namespace Chat.Tests.Client;

[Trait("Kind", "Unit")]
public sealed class CommandTests
{
    [Theory]
    [InlineData("help")]
    [InlineData("  help  ")]
    public void Help_is_a_command(string line) => Assert.IsType<Command.Help>(Command.Parse(line));

    [Fact]
    public void Loginout_is_a_command() => Assert.IsType<Command.LoginOut>(Command.Parse("loginout"));

    [Fact]
    public void Blank_lines_are_no_command()
    {
        Assert.Null(Command.Parse(""));
        Assert.Null(Command.Parse("   "));
    }

    [Theory]
    [InlineData("chat:12:hello", 12, "hello")]
    [InlineData("chat:12:see you at 10:30: ok?", 12, "see you at 10:30: ok?")]
    [InlineData("chat:12:", 12, "")]
    [InlineData("chat: 7 :spaces around the id", 7, "spaces around the id")]
    public void Chat_splits_off_the_id_once_and_keeps_the_rest_as_the_message(string line, int id, string message) =>
        Assert.Equal(new Command.Chat(id, message), Command.Parse(line));

    [Fact]
    public void Groupchat_keeps_colons_in_the_message() =>
        Assert.Equal(new Command.GroupChat(3, "a:b:c"), Command.Parse("groupchat:3:a:b:c"));

    [Fact]
    public void Addfriend_and_addgroup_take_one_id()
    {
        Assert.Equal(new Command.AddFriend(42), Command.Parse("addfriend:42"));
        Assert.Equal(new Command.AddGroup(9), Command.Parse("addgroup:9"));
    }

    [Theory]
    [InlineData("creategroup:team:the team", "team", "the team")]
    [InlineData("creategroup:team:desc: with: colons", "team", "desc: with: colons")]
    [InlineData("creategroup:team", "team", "")]
    public void Creategroup_takes_a_name_and_the_rest_as_description(string line, string name, string description) =>
        Assert.Equal(new Command.CreateGroup(name, description), Command.Parse(line));

    [Theory]
    [InlineData("chat:abc:x")]
    [InlineData("chat:12")]
    [InlineData("chat")]
    [InlineData("chat:-5:x")]
    [InlineData("chat:0:x")]
    [InlineData("chat:99999999999:x")]
    [InlineData("chat:1e3:x")]
    [InlineData("groupchat:x:hello")]
    [InlineData("addfriend:")]
    [InlineData("addfriend:bob")]
    [InlineData("addfriend:5:extra")]
    [InlineData("addgroup")]
    [InlineData("creategroup")]
    [InlineData("creategroup::desc")]
    public void Bad_ids_and_missing_arguments_are_invalid_with_the_usage(string line)
    {
        var invalid = Assert.IsType<Command.Invalid>(Command.Parse(line));
        Assert.StartsWith("usage: ", invalid.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("CHAT:1:x")]
    [InlineData("quit")]
    [InlineData(":1:x")]
    public void Unknown_commands_are_invalid(string line)
    {
        var invalid = Assert.IsType<Command.Invalid>(Command.Parse(line));
        Assert.StartsWith("unknown command", invalid.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void History_read_leave_and_remove_commands_name_their_conversation_and_numbers()
    {
        Assert.Equal(new Command.History(false, 7, null), Command.Parse("history:7"));
        Assert.Equal(new Command.History(true, 3, 9_000_000_000), Command.Parse("grouphistory:3:9000000000"));
        Assert.Equal(new Command.Read(false, 7, 12), Command.Parse("read:7:12"));
        Assert.Equal(new Command.Read(true, 3, 40), Command.Parse("groupread: 3 : 40"));
        Assert.Equal(new Command.LeaveGroup(3), Command.Parse("leavegroup:3"));
        Assert.Equal(new Command.RemoveMember(3, 7), Command.Parse("removemember:3:7"));
        Assert.Equal(new Command.RemoveFriend(7), Command.Parse("removefriend:7"));
    }

    [Theory]
    [InlineData("history")]
    [InlineData("history:0")]
    [InlineData("history:7:0")]
    [InlineData("history:7:1:2")]
    [InlineData("read:7")]
    [InlineData("groupread:3:x")]
    [InlineData("leavegroup:")]
    [InlineData("removemember:3")]
    [InlineData("removemember:3:4294967296")]
    [InlineData("removefriend:-1")]
    public void New_commands_with_bad_or_missing_numbers_are_invalid_with_the_usage(string line) =>
        Assert.StartsWith("usage: ", Assert.IsType<Command.Invalid>(Command.Parse(line)).Reason, StringComparison.Ordinal);
}
