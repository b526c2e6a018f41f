using System.Buffers;
using System.Text;
using Chat.Protocol;
using Chat.Server.Handlers;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Handlers;

[Trait("Kind", "Unit")]
public sealed class TypingLimiterTests
{
    [Fact]
    public void One_typing_per_second_per_user_and_conversation_passes_and_the_rest_are_dropped()
    {
        var clock = new ManualClock();
        var limiter = new TypingLimiter(clock);

        Assert.True(limiter.TryPass(1, -5));
        Assert.False(limiter.TryPass(1, -5));
        Assert.True(limiter.TryPass(1, 7)); // another conversation
        Assert.True(limiter.TryPass(2, -5)); // another user
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(limiter.TryPass(1, -5));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(limiter.TryPass(1, -5));
        Assert.False(limiter.TryPass(1, -5));
    }

    [Fact]
    public void At_capacity_expired_entries_make_room_and_while_all_are_fresh_nothing_new_passes()
    {
        var clock = new ManualClock();
        var limiter = new TypingLimiter(clock);
        for (var user = 0; user < TypingLimiter.Capacity; user++)
        {
            Assert.True(limiter.TryPass(user, 1));
        }

        Assert.False(limiter.TryPass(-1, 1)); // full of fresh entries: bounded, so dropped
        clock.Advance(TypingLimiter.Interval);
        Assert.True(limiter.TryPass(-1, 1));
    }
}

[Trait("Kind", "Unit")]
public sealed class LiveFrameTests
{
    private static Request Parse(string json)
    {
        Assert.True(RequestReader.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out var request, out var error), error?.Message);
        return request;
    }

    [Fact]
    public void Typing_names_a_peer_or_a_group_exactly_and_round_trips_through_the_writer()
    {
        Assert.Equal(new TypingRequest(3, null), Parse("""{"msgid":19,"peer":3}"""));
        Assert.Equal(new TypingRequest(null, 4) { Cid = Cid.From("c") }, Parse("""{"msgid":19,"groupid":4,"cid":"c"}"""));
        foreach (var bad in new[] { """{"msgid":19}""", """{"msgid":19,"peer":3,"groupid":4}""" })
        {
            var invalid = Assert.IsType<InvalidRequest>(Parse(bad));
            Assert.Equal((MsgId.Typing, ErrorCode.BadRequest), (invalid.For, invalid.Code));
        }

        Assert.False(RequestReader.TryParse(new ReadOnlySequence<byte>("""{"msgid":19,"peer":"x"}"""u8.ToArray()), out _, out var error));
        Assert.Equal(ErrorCode.BadRequest, error.Code);
        var written = new TypingRequest(null, 9) { Cid = Cid.From(5) };
        Assert.Equal(written, Parse(Encoding.UTF8.GetString(RequestWriter.ToFrame(written)).TrimEnd('\n')));
        Assert.Equal(ErrorCode.UnknownMsgId, Assert.IsType<InvalidRequest>(Parse("""{"msgid":20,"id":1}""")).Code); // PRESENCE is a push only
    }

    [Fact]
    public void Typing_and_presence_frames_read_back_as_written()
    {
        Assert.Equal("{\"msgid\":19,\"id\":1,\"name\":\"ann\",\"peer\":1}\n", Encoding.UTF8.GetString(ServerFrames.Typing(1, "ann", isGroup: false, 2)));
        Assert.Equal("{\"msgid\":19,\"id\":1,\"name\":\"ann\",\"groupid\":8}\n", Encoding.UTF8.GetString(ServerFrames.Typing(1, "ann", isGroup: true, 8)));
        Assert.Equal("{\"msgid\":20,\"id\":7,\"state\":\"offline\"}\n", Encoding.UTF8.GetString(ServerFrames.Presence(7, online: false)));
        Assert.Equal(new TypingMessage(1, "ann", null, 8), ServerFrameReader.Read(ServerFrames.Typing(1, "ann", isGroup: true, 8).AsSpan()[..^1]));
        Assert.Equal(new PresenceMessage(7, true), ServerFrameReader.Read(ServerFrames.Presence(7, online: true).AsSpan()[..^1]));
    }
}
