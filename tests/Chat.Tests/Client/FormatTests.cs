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

    [Fact]
    public void History_unread_read_notices_and_removals_print_as_lines()
    {
        var m = new ChatReceived(new ChatPush(false, 1, "alice", 2, "hi", "t", 7, 0));
        var page = new HistoryAckMessage(ErrorCode.None, null, null, 1, null, [m], More: true);
        var ack = new LoginAckMessage(ErrorCode.None, null, null, 2, "bob", [], [], [],
            [new ConversationEntry(1, null, 9, 4, 3), new ConversationEntry(null, 5, 7, 7, 0), new ConversationEntry(null, 6, 2, 0, 2)], More: false);

        Assert.Equal(["----------------------history of chat with [1]----------------------", "t [1] alice said: hi (seq 7)", "older messages: history:1:7"], Format.History(page));
        Assert.Equal("(the beginning of the conversation)", Format.History(page with { More = false }).Last());
        Assert.Equal(
            ["----------------------unread--------------------------", "chat with [1]: 3 unread (read up to seq 4 of 9)", "group 6: 2 unread (read up to seq 0 of 2)", "======================================================"],
            Format.Unread(ack));
        Assert.Empty(Format.Unread(ack with { Conversations = [] }));
        Assert.Equal("[1] read your messages up to seq 3", Format.ReadNotice(new ReadNoticeMessage(1, 1, null, 3), me: 2));
        Assert.Equal("read on another device: group 5 up to seq 3", Format.ReadNotice(new ReadNoticeMessage(2, null, 5, 3), me: 2));
        Assert.Equal("you were removed from group 5 by [1]", Format.MemberGone(new MemberGoneMessage(MsgId.RemoveMember, 5, 2, 1), me: 2));
        Assert.Equal("you left group 5 on another device", Format.MemberGone(new MemberGoneMessage(MsgId.LeaveGroup, 5, 2, null), me: 2));
        Assert.Equal("[3] was removed from group 5 by [1]", Format.MemberGone(new MemberGoneMessage(MsgId.RemoveMember, 5, 3, 1), me: 2));
        Assert.Equal("[3] left group 5", Format.MemberGone(new MemberGoneMessage(MsgId.LeaveGroup, 5, 3, null), me: 2));
        Assert.Equal("[3] carol joined group 5", Format.MemberJoined(new MemberJoinedMessage(5, new UserEntry(3, "carol", true, false))));
    }
}
