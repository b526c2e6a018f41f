using System.Text;
using Chat.Bench;
using Chat.Protocol;

namespace Chat.Tests.Bench;

[Trait("Kind", "Unit")]
public sealed class ServerFrameTests
{
    private static ServerFrame Parse(string json) => ServerFrame.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void A_delivered_chat_frame_names_its_message_by_the_number_that_starts_the_text()
    {
        var frame = Parse("""{"msgid":6,"id":3,"name":"bench-1","toid":4,"msg":"1234 xxxxxxxx","time":"t","seq":9,"ts":1}""");

        Assert.Equal((MsgId.OneChat, 3, 1234L, -1L), (frame.MsgId, frame.Id, frame.MessageId, frame.Cid));
    }

    [Fact]
    public void An_ack_carries_the_cid_number_errno_and_groupid()
    {
        Assert.Equal((MsgId.Ack, 0, 77L), (Parse("""{"msgid":11,"cid":"77","errno":0,"seq":1,"ts":2}""") is var a ? (a.MsgId, a.Errno, a.Cid) : default));
        Assert.Equal(42, Parse("""{"msgid":11,"cid":"setup-1","errno":0,"groupid":42}""").GroupId);
        Assert.Equal(-1, Parse("""{"msgid":11,"cid":"setup-1","errno":0}""").Cid);
        Assert.Equal(-1, Parse("""{"msgid":11,"cid":"12abc","errno":0}""").Cid);
    }

    [Fact]
    public void A_failure_keeps_its_errmsg_and_nested_lists_are_skipped()
    {
        var failed = Parse("""{"msgid":11,"cid":"5","errno":7,"errmsg":"not a member"}""");
        var login = Parse("""{"msgid":2,"errno":0,"id":8,"name":"n","groups":[{"id":1,"users":[{"id":2,"msg":"x"}]}],"offlinemsg":[{"msgid":6,"msg":"99 x"}]}""");

        Assert.Equal((7, "not a member", 5L), (failed.Errno, failed.ErrMsg, failed.Cid));
        Assert.Equal((MsgId.LoginAck, 8, -1L), (login.MsgId, login.Id, login.MessageId));
    }

    [Fact]
    public void Frames_as_the_server_builds_them_read_with_a_numeric_or_string_cid()
    {
        var ack = ServerFrames.Reply(MsgId.OneChat, Cid.From(123), new MessageStored(4, 5))!;
        var pong = ServerFrames.Reply(MsgId.Ping, Cid.From("9"), new Pong())!;
        var chat = ServerFrames.Chat(new ChatPush(true, 3, "bench-1", 8, "55 xx", "", 6, 7));

        Assert.Equal((MsgId.Ack, 0, 123L), ServerFrame.Parse(ack.AsSpan(0, ack.Length - 1)) is var a ? (a.MsgId, a.Errno, a.Cid) : default);
        Assert.Equal((MsgId.Pong, 9L), ServerFrame.Parse(pong.AsSpan(0, pong.Length - 1)) is var p ? (p.MsgId, p.Cid) : default);
        Assert.Equal((MsgId.GroupChat, 3, 8, 55L), ServerFrame.Parse(chat.AsSpan(0, chat.Length - 1)) is var c ? (c.MsgId, c.Id, c.GroupId, c.MessageId) : default);
    }

    [Fact]
    public void Reading_an_ack_or_a_delivered_chat_allocates_nothing()
    {
        var chat = """{"msgid":6,"id":3,"name":"bench-1","toid":4,"msg":"1234 xxxxxxxx","time":"t","seq":9,"ts":1}"""u8.ToArray();
        var ack = """{"msgid":11,"cid":"77","errno":0,"seq":1,"ts":2}"""u8.ToArray();
        ServerFrame.Parse(chat);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = (ServerFrame.Parse(chat).MessageId, ServerFrame.Parse(ack).Cid);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal((1234L, 77L), read);
    }
}
