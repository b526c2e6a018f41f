using System.Buffers;
using System.Text;
using Chat.Protocol;

namespace Chat.Tests.Protocol;

[Trait("Kind", "Unit")]
public sealed class RequestWriterTests
{
    public static TheoryData<Request> EveryRequest() =>
    [
        new LoginRequest(7, "pw") ,
        new LoginRequest(7, "pw", 2) { Cid = Cid.From("login") },
        new LogoutRequest { Cid = Cid.From(3) },
        new RegisterRequest("zhang san", "pw"),
        new RegisterRequest(null, null) { Cid = Cid.From("r") },
        new OneChatRequest(2, "hello \"there\" \\ 你好 \u0001", "2024-01-01 10:00:00") { Cid = Cid.From(12345678901234) },
        new OneChatRequest(2, ""),
        new GroupChatRequest(5, "to all", "t") { Cid = Cid.From("g-1") },
        new AddFriendRequest(9),
        new CreateGroupRequest("team", "the team") { Cid = Cid.From("c") },
        new CreateGroupRequest(null, null),
        new JoinGroupRequest(5) { Cid = Cid.From(0) },
        new PingRequest(),
        new PingRequest { Cid = Cid.From("barrier-1") },
        new HistoryRequest(7, null, null),
        new HistoryRequest(null, 5, 120, 200) { Cid = Cid.From("h") },
        new ReadRequest(7, null, 0),
        new ReadRequest(null, 5, long.MaxValue) { Cid = Cid.From(1) },
        new LeaveGroupRequest(5) { Cid = Cid.From("l") },
        new RemoveMemberRequest(5, 7),
        new RemoveFriendRequest(9) { Cid = Cid.From("f") },
        new OneChatRequest(2, "answer") { Reply = 7, Cid = Cid.From("re") },
        new GroupChatRequest(5, "answer") { Reply = 1 },
        new EditRequest(7, null, 3, "fixed \"text\"") { Cid = Cid.From("e") },
        new EditRequest(null, 5, 3, ""),
        new RecallRequest(null, 5, 9) { Cid = Cid.From(25) },
        new ReactRequest(7, null, 3, "👍🏽"),
        new ReactRequest(null, 5, 3, "❤️", On: false) { Cid = Cid.From("r") },
    ];

    private static Request RoundTrip(byte[] frame)
    {
        Assert.Equal((byte)'\n', frame[^1]);
        Assert.Equal(1, frame.Count(b => b == (byte)'\n'));
        Assert.True(RequestReader.TryParse(new ReadOnlySequence<byte>(frame, 0, frame.Length - 1), out var request, out var error), error?.Message);
        return request;
    }

    [Theory]
    [MemberData(nameof(EveryRequest))]
    public void Every_request_reads_back_as_it_was_written(Request request)
    {
        Assert.Equal(request, RoundTrip(RequestWriter.ToFrame(request)));
    }

    [Fact]
    public void A_login_with_resume_points_reads_back_with_them()
    {
        var login = new LoginRequest(7, "pw", 2, [new ResumePoint(2, null, 3), new ResumePoint(null, 5, 9)]) { Cid = Cid.From("l") };

        var read = Assert.IsType<LoginRequest>(RoundTrip(RequestWriter.ToFrame(login)));

        Assert.Equal(login.Resume, read.Resume);
        Assert.Equal(login with { Resume = null }, read with { Resume = null });
    }

    [Fact]
    public void A_frame_is_the_seed_clients_shape_with_the_cid_after_the_msgid_and_raw_utf8_text()
    {
        Assert.Equal("""{"msgid":6,"cid":"c","toid":2,"msg":"né: ok","time":"t"}""" + "\n",
            Encoding.UTF8.GetString(RequestWriter.ToFrame(new OneChatRequest(2, "né: ok", "t") { Cid = Cid.From("c") })));
        Assert.Equal("""{"msgid":13,"cid":42}""" + "\n", Encoding.UTF8.GetString(RequestWriter.ToFrame(new PingRequest { Cid = Cid.From(42) })));
        Assert.Equal("""{"msgid":1,"id":7,"password":"pw","v":2,"resume":[{"peer":2,"seq":3},{"groupid":5,"seq":9}]}""" + "\n",
            Encoding.UTF8.GetString(RequestWriter.ToFrame(new LoginRequest(7, "pw", 2, [new(2, null, 3), new(null, 5, 9)]))));
    }

    [Fact]
    public void Frames_written_into_one_buffer_follow_each_other()
    {
        var buffer = new ArrayBufferWriter<byte>();

        RequestWriter.Write(new PingRequest(), buffer);
        RequestWriter.Write(new AddFriendRequest(3), buffer);

        Assert.Equal("{\"msgid\":13}\n{\"msgid\":7,\"friendid\":3}\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void A_chat_from_utf8_text_reads_back_as_the_same_request()
    {
        var buffer = new ArrayBufferWriter<byte>();

        RequestWriter.WriteChat(buffer, group: false, 4, "17 xxé\"x"u8, "17"u8);
        var one = RoundTrip(buffer.WrittenSpan.ToArray());
        buffer.ResetWrittenCount();
        RequestWriter.WriteChat(buffer, group: true, 9, "18 x"u8, "18"u8);

        Assert.Equal(new OneChatRequest(4, "17 xxé\"x") { Cid = Cid.From("17") }, one);
        Assert.Equal(new GroupChatRequest(9, "18 x") { Cid = Cid.From("18") }, RoundTrip(buffer.WrittenSpan.ToArray()));
    }

    [Fact]
    public void What_a_client_never_sends_cannot_be_written()
    {
        Assert.Throws<ArgumentException>(() => RequestWriter.ToFrame(new InvalidRequest(MsgId.Login, ErrorCode.Invalid, "x")));
    }

    [Fact]
    public void Writing_a_chat_from_utf8_into_a_reused_buffer_allocates_nothing()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        RequestWriter.WriteChat(buffer, group: false, 4, "1 xxxx"u8, "1"u8); // the thread's writer is made once

        buffer.ResetWrittenCount();
        var before = GC.GetAllocatedBytesForCurrentThread();
        RequestWriter.WriteChat(buffer, group: true, 4, "2 xxxx"u8, "2"u8);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
