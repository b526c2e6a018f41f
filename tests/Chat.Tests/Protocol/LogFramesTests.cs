using System.Buffers;
using System.Text;
using Chat.Protocol;

namespace Chat.Tests.Protocol;

/// <summary>EDIT (24), RECALL (25), REACT (26) and replies on the wire (issue 21): what a client may send, what it gets.</summary>
[Trait("Kind", "Unit")]
public sealed class LogFramesTests
{
    [Fact]
    public void Events_name_a_conversation_and_a_seq_and_react_is_on_unless_told_otherwise()
    {
        Assert.Equal(new EditRequest(7, null, 3, "new"), Parse("""{"msgid":24,"peer":7,"seq":3,"msg":"new"}"""));
        Assert.Equal(new RecallRequest(null, 2, 3) { Cid = Cid.From("c") }, Parse("""{"msgid":25,"groupid":2,"seq":3,"cid":"c"}"""));
        Assert.Equal(new ReactRequest(7, null, 3, "👍"), Parse("""{"msgid":26,"peer":7,"seq":3,"emoji":"👍"}"""));
        Assert.Equal(new ReactRequest(7, null, 3, "👨‍👩‍👧", false), Parse("""{"msgid":26,"peer":7,"seq":3,"emoji":"👨‍👩‍👧","on":false}"""));
        Assert.Equal(new OneChatRequest(7, "yes") { Reply = 3 }, Parse("""{"msgid":6,"toid":7,"msg":"yes","reply":3}"""));
    }

    [Theory]
    [InlineData("""{"msgid":24,"peer":7,"msg":"x"}""", "EDIT needs seq, 1 or more")]
    [InlineData("""{"msgid":24,"peer":7,"seq":0,"msg":"x"}""", "EDIT needs seq, 1 or more")]
    [InlineData("""{"msgid":24,"peer":7,"seq":1}""", "EDIT needs msg")]
    [InlineData("""{"msgid":25,"seq":1}""", "RECALL needs exactly one of peer and groupid")]
    [InlineData("""{"msgid":26,"peer":7,"seq":1}""", "emoji must be 1 to 16 UTF-16 units, with no white space or control characters")]
    [InlineData("""{"msgid":26,"peer":7,"seq":1,"emoji":""}""", "emoji must be 1 to 16 UTF-16 units, with no white space or control characters")]
    [InlineData("""{"msgid":26,"peer":7,"seq":1,"emoji":"a b"}""", "emoji must be 1 to 16 UTF-16 units, with no white space or control characters")]
    [InlineData("""{"msgid":26,"peer":7,"seq":1,"emoji":"\u0007"}""", "emoji must be 1 to 16 UTF-16 units, with no white space or control characters")]
    [InlineData("""{"msgid":26,"peer":7,"seq":1,"emoji":"12345678901234567"}""", "emoji must be 1 to 16 UTF-16 units, with no white space or control characters")]
    [InlineData("""{"msgid":6,"toid":7,"msg":"x","reply":0}""", "reply must be a seq, 1 or more")]
    public void A_malformed_event_is_a_bad_request(string json, string problem)
    {
        var invalid = Assert.IsType<InvalidRequest>(Parse(json));
        Assert.Equal((ErrorCode.BadRequest, problem), (invalid.Code, invalid.Problem));
    }

    [Fact]
    public void Pushes_are_as_designed_and_read_back()
    {
        var edit = ServerFrames.Event(new EventPush(MsgId.Edit, false, 1, "al", 2, 5, 3, "new", true, 99));
        var recall = ServerFrames.Event(new EventPush(MsgId.Recall, true, 1, "al", 4, 6, 3, "", true, 99));
        var react = ServerFrames.Event(new EventPush(MsgId.React, true, 1, "al", 4, 7, 3, "👍", false, 99));
        // (Characters outside the BMP go out escaped, as System.Text.Json writes them; every JSON reader takes them.)
        Assert.Equal("""{"msgid":24,"id":1,"name":"al","toid":2,"seq":5,"ref":3,"msg":"new","ts":99}""" + "\n", Encoding.UTF8.GetString(edit));
        Assert.Equal("""{"msgid":25,"id":1,"groupid":4,"seq":6,"ref":3,"ts":99}""" + "\n", Encoding.UTF8.GetString(recall));
        Assert.Equal("""{"msgid":26,"id":1,"name":"al","groupid":4,"seq":7,"ref":3,"emoji":"\uD83D\uDC4D","on":false,"ts":99}""" + "\n", Encoding.UTF8.GetString(react));
        var read = Assert.IsType<LogEventReceived>(ServerFrameReader.Read(react.AsSpan(0, react.Length - 1)));
        Assert.Equal(new EventPush(MsgId.React, true, 1, "al", 4, 7, 3, "👍", false, 99), read.Push);

        var chat = ServerFrames.Chat(new ChatPush(false, 1, "al", 2, "yes", "t", 8, 99)
        {
            Reply = new QuoteEntry(3, 2, "bo", "q?"),
            Edited = 100,
            Reactions = [new ReactionEntry("👍", [1, 2])],
        });
        Assert.Equal(
            """{"msgid":6,"id":1,"name":"al","toid":2,"msg":"yes","time":"t","seq":8,"ts":99,"reply":{"seq":3,"id":2,"name":"bo","msg":"q?"},"edited":100,"reactions":[{"emoji":"\uD83D\uDC4D","ids":[1,2]}]}""" + "\n",
            Encoding.UTF8.GetString(chat));
        var push = Assert.IsType<ChatReceived>(ServerFrameReader.Read(chat.AsSpan(0, chat.Length - 1))).Push;
        Assert.Equal((new QuoteEntry(3, 2, "bo", "q?"), 100L, "👍", 2), (push.Reply, push.Edited, push.Reactions![0].Emoji, push.Reactions[0].Ids.Count));

        var tombstone = ServerFrames.Chat(new ChatPush(true, 1, "al", 4, "", "t", 9, 99) { Recalled = true, Reply = new QuoteEntry(3, 2, "bo", "", Recalled: true) });
        Assert.Equal(
            """{"msgid":10,"id":1,"name":"al","groupid":4,"msg":"","time":"t","seq":9,"ts":99,"reply":{"seq":3,"id":2,"name":"bo","recalled":true},"recalled":true}""" + "\n",
            Encoding.UTF8.GetString(tombstone));
    }

    private static Request Parse(string json)
    {
        Assert.True(RequestReader.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out var request, out var error), error?.Message);
        return request;
    }
}
