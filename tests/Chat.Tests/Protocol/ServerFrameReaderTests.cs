using System.Text;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.Tests.Protocol;

[Trait("Kind", "Unit")]
public sealed class ServerFrameReaderTests
{
    private static readonly ChatPush ToBob = new(false, 1, "alice", 2, "hi \"bob\" 你好", "2026-11-21 10:00:00", 7, 1_700_000_000_000);
    private static readonly ChatPush ToTeam = new(true, 2, "bob", 5, "hello team", "t", 8, 1_700_000_000_001);

    private static readonly LoginAck Alice = new(
        1,
        "alice",
        [new UserEntry(2, "bob", Online: true), new UserEntry(3, "carol", Online: false)],
        [new GroupEntry(5, "team", "the \"team\"", [new UserEntry(1, "alice", true, Creator: true), new UserEntry(2, "bob", false, Creator: false)])],
        [ServerFrames.Chat(ToBob).AsMemory(), ServerFrames.Chat(ToTeam).AsMemory()],
        [new ConversationEntry(2, null, 7), new ConversationEntry(null, 5, 8)],
        More: true);

    private static ServerMessage Read(byte[] frame)
    {
        Assert.Equal((byte)'\n', frame[^1]);
        return ServerFrameReader.Read(frame.AsSpan(0, frame.Length - 1));
    }

    private static ServerMessage Read(string json) => ServerFrameReader.Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void An_ack_keeps_a_numeric_cid_a_number_and_carries_seq_ts_and_groupid()
    {
        Assert.Equal(new AckMessage(Cid.From(2), ErrorCode.None, null, Seq: 9, Ts: 1700),
            Read(ServerFrames.Reply(MsgId.OneChat, Cid.From(2), new MessageStored(9, 1700))!));
        Assert.Equal(new AckMessage(Cid.From("c"), ErrorCode.None, null, GroupId: 5),
            Read(ServerFrames.Reply(MsgId.CreateGroup, Cid.From("c"), new GroupCreated(5))!));
        Assert.Equal(new AckMessage(Cid.From("x"), ErrorCode.NotMember, "not a member"),
            Read(ServerFrames.Ack(Cid.From("x"), ErrorCode.NotMember, "not a member")));
    }

    [Fact]
    public void An_error_carries_errno_errmsg_and_the_failed_request()
    {
        Assert.Equal(new ErrorMessage(ErrorCode.NotFound, "no such user", 6),
            Read(ServerFrames.Reply(MsgId.OneChat, null, Reply.Fail(ErrorCode.NotFound, "no such user"))!));
        Assert.Equal(new ErrorMessage(ErrorCode.BadRequest, "malformed JSON", null),
            Read(ServerFrames.Reply(new RequestError(ErrorCode.BadRequest, "malformed JSON", null, null))));
    }

    [Fact]
    public void Reg_ack_pong_and_a_failed_login_ack_read_back()
    {
        Assert.Equal(new RegAckMessage(ErrorCode.None, null, 42, Cid.From(1)), Read(ServerFrames.Reply(MsgId.Reg, Cid.From(1), new Registered(42))!));
        Assert.Equal(new RegAckMessage(ErrorCode.Invalid, "name taken", null, null),
            Read(ServerFrames.Reply(MsgId.Reg, null, Reply.Fail(ErrorCode.Invalid, "name taken"))!));
        Assert.Equal(new PongMessage(Cid.From(77)), Read(ServerFrames.Reply(MsgId.Ping, Cid.From(77), new Pong())!));
        Assert.Equal(new PongMessage(null), Read(ServerFrames.Reply(MsgId.Ping, null, new Pong())!));

        var failed = Assert.IsType<LoginAckMessage>(Read(ServerFrames.Reply(MsgId.Login, Cid.From("l"), Reply.Fail(ErrorCode.AlreadyOnline, "online"))!));
        Assert.Equal((ErrorCode.AlreadyOnline, "online", Cid.From("l"), false), (failed.Errno, failed.ErrMsg, failed.Cid, failed.Succeeded));
    }

    [Fact]
    public void Chat_pushes_read_back_as_sent()
    {
        Assert.Equal(new ChatReceived(ToBob), Read(ServerFrames.Chat(ToBob)));
        Assert.Equal(new ChatReceived(ToTeam), Read(ServerFrames.Chat(ToTeam)));
        Assert.Equal(MsgId.GroupChat, Read(ServerFrames.Chat(ToTeam)).MsgId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_login_ack_reads_back_in_the_seeds_string_form_and_the_v2_object_form(bool objects)
    {
        var ack = Assert.IsType<LoginAckMessage>(Read(ServerFrames.LoginOk(Alice, objects, Cid.From(9))));

        Assert.Equal((ErrorCode.None, Cid.From(9), 1, "alice"), (ack.Errno, ack.Cid, ack.Id, ack.Name));
        Assert.Equal(Alice.Friends, ack.Friends);
        var team = Assert.Single(ack.Groups);
        Assert.Equal((5, "team", "the \"team\""), (team.Id, team.Name, team.Description));
        Assert.Equal(Alice.Groups[0].Users, team.Users);
        Assert.Equal([new ChatReceived(ToBob), new ChatReceived(ToTeam)], ack.Offline);
        Assert.Equal(objects ? Alice.Conversations : [], ack.Conversations);
        Assert.Equal(objects, ack.More);
    }

    [Fact]
    public void The_seed_servers_login_ack_reads_with_users_nested_as_strings_twice_and_chats_without_seq()
    {
        const string seed = """
            {"msgid":2,"errno":0,"id":1,"name":"alice",
             "friends":["{\"id\":2,\"name\":\"bob\",\"state\":\"online\"}"],
             "groups":["{\"id\":5,\"groupname\":\"team\",\"groupdesc\":\"the team\",\"users\":[\"{\\\"id\\\":1,\\\"name\\\":\\\"alice\\\",\\\"state\\\":\\\"online\\\",\\\"role\\\":\\\"creator\\\"}\"]}"],
             "offlinemsg":["{\"msgid\":6,\"id\":2,\"name\":\"bob\",\"toid\":1,\"msg\":\"m1\",\"time\":\"t\"}"]}
            """;

        var ack = Assert.IsType<LoginAckMessage>(Read(seed));

        Assert.Equal([new UserEntry(2, "bob", true)], ack.Friends);
        Assert.Equal([new UserEntry(1, "alice", true, Creator: true)], Assert.Single(ack.Groups).Users);
        Assert.Equal([new ChatReceived(new ChatPush(false, 2, "bob", 1, "m1", "t", 0, 0))], ack.Offline);
    }

    [Fact]
    public void Unknown_types_and_fields_are_passed_over_and_a_non_object_is_rejected()
    {
        Assert.Equal(new OtherMessage((MsgId)99), Read("""{"msgid":99,"id":3,"state":"online"}"""));
        Assert.Equal(new PongMessage(Cid.From("p")), Read("""{"extra":{"cid":[1,{"msgid":1}]},"msgid":14,"cid":"p","errno":"zero"}"""));
        Assert.ThrowsAny<JsonException>(() => Read("[1]"));
        Assert.ThrowsAny<JsonException>(() => Read("""{"msgid":14"""));
    }

    [Fact]
    public void Every_frame_starts_with_the_msgid_it_reads_as()
    {
        byte[][] frames =
        [
            ServerFrames.Ack(Cid.From(1), ErrorCode.None, null),
            ServerFrames.Error(ErrorCode.BadRequest, "x", null),
            ServerFrames.Chat(ToTeam),
            ServerFrames.LoginOk(Alice, objects: false, null),
            ServerFrames.Reply(MsgId.Ping, null, new Pong())!,
        ];

        Assert.All(frames, f => Assert.Equal((int)Read(f).MsgId, ServerFrames.LeadingMsgId(f)));
        Assert.Null(ServerFrames.LeadingMsgId("{\"id\":6}"u8));
    }
}
