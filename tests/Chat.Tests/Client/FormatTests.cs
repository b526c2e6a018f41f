using System.Text;
using Chat.Client;
using Chat.Protocol;

namespace Chat.Tests.Client;

[Trait("Kind", "Unit")]
public sealed class FormatTests
{
    [Fact]
    public void Chats_print_in_the_seed_clients_words()
    {
        Assert.Equal("2026-11-21 10:00:00 [1] alice said: hi: there",
            Format.Chat(new ChatPush(false, 1, "alice", 2, "hi: there", "2026-11-21 10:00:00", 1, 0)));
        Assert.Equal("group message[5]: t [1] alice said: hello", Format.Chat(new ChatPush(true, 1, "alice", 5, "hello", "t", 1, 0)));
    }

    [Fact]
    public void A_one_to_one_conversation_is_named_by_the_other_user()
    {
        var fromAlice = new ChatPush(false, 1, "alice", 2, "m", "t", 1, 0);

        Assert.Equal(new Conversation(false, 1), Format.ConversationOf(fromAlice, me: 2));
        Assert.Equal(new Conversation(false, 2), Format.ConversationOf(fromAlice, me: 1));
        Assert.Equal(new Conversation(true, 5), Format.ConversationOf(fromAlice with { IsGroup = true, TargetId = 5 }, me: 2));
    }

    [Fact]
    public void The_login_summary_reads_lists_of_objects_and_the_seeds_lists_of_strings()
    {
        const string objects = """
            {"msgid":2,"errno":0,"id":1,"name":"alice",
             "friends":[{"id":2,"name":"bob","state":"online"}],
             "groups":[{"id":5,"groupname":"team","groupdesc":"the team","users":[{"id":1,"name":"alice","state":"online","role":"creator"}]}]}
            """;
        const string strings = """
            {"msgid":2,"errno":0,"id":1,"name":"alice",
             "friends":["{\"id\":2,\"name\":\"bob\",\"state\":\"online\"}"],
             "groups":["{\"id\":5,\"groupname\":\"team\",\"groupdesc\":\"the team\",\"users\":[\"{\\\"id\\\":1,\\\"name\\\":\\\"alice\\\",\\\"state\\\":\\\"online\\\",\\\"role\\\":\\\"creator\\\"}\"]}"]}
            """;

        var expected = new[]
        {
            "======================login user======================",
            "current login user => id:1 name:alice",
            "----------------------friend list---------------------",
            "2 bob online",
            "----------------------group list----------------------",
            "5 team the team",
            "    1 alice online creator",
            "======================================================",
        };
        Assert.Equal(expected, Format.LoginSummary(LoginAck(objects)));
        Assert.Equal(expected, Format.LoginSummary(LoginAck(strings)));
    }

    [Fact]
    public void An_error_reads_errno_and_errmsg()
    {
        Assert.Equal("error 7: not a member", Format.Error(new AckMessage(Cid.From("c"), ErrorCode.NotMember, "not a member")));
    }

    private static LoginAckMessage LoginAck(string json) =>
        Assert.IsType<LoginAckMessage>(ServerFrameReader.Read(Encoding.UTF8.GetBytes(json)));
}
