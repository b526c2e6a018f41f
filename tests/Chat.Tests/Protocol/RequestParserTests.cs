using System.Buffers;
using System.Text;
using Chat.Domain.Protocol;
using Chat.Server.Protocol;

namespace Chat.Tests.Protocol;

public sealed class RequestParserTests
{
    private static Request Parse(string json)
    {
        Assert.True(RequestParser.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out var request, out var error), error?.Message);
        return request;
    }

    private static RequestError Reject(byte[] bytes)
    {
        Assert.False(RequestParser.TryParse(new ReadOnlySequence<byte>(bytes), out _, out var error));
        return error;
    }

    private static RequestError Reject(string json) => Reject(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_the_seed_clients_one_chat_frame()
    {
        var r = Parse("""{"msgid":6,"id":1,"name":"zhang san","toid":2,"msg":"hello \"there\" \\ 你好","time":"2024-01-01 10:00:00"}""");
        Assert.Equal(MsgId.OneChat, r.MsgId);
        Assert.Equal(1, r.Id);
        Assert.Equal("zhang san", r.Name);
        Assert.Equal(2, r.ToId);
        Assert.Equal("hello \"there\" \\ 你好", r.Msg);
        Assert.Equal("2024-01-01 10:00:00", r.Time);
    }

    [Fact]
    public void Reads_every_field_and_skips_unknown_ones()
    {
        var r = Parse("""{"extra":{"deep":[1,2,{"x":null}]},"msgid":8,"groupname":"g","groupdesc":"d","groupid":7,"friendid":9,"password":"p","v":2,"cid":"c-1"}""");
        Assert.Equal(MsgId.CreateGroup, r.MsgId);
        Assert.Equal(("g", "d", 7, 9, "p", 2, "c-1"), (r.GroupName, r.GroupDesc, r.GroupId, r.FriendId, r.Password, r.V, r.Cid));
    }

    [Fact]
    public void A_numeric_cid_is_kept_as_its_text()
    {
        Assert.Equal("42", Parse("""{"msgid":13,"cid":42}""").Cid);
    }

    [Theory]
    [InlineData("not json", ErrorCode.BadRequest, "malformed JSON")]
    [InlineData("[1,2]", ErrorCode.BadRequest, "frame must be a JSON object")]
    [InlineData("\"text\"", ErrorCode.BadRequest, "frame must be a JSON object")]
    [InlineData("{\"msgid\":1", ErrorCode.BadRequest, "malformed JSON")]
    [InlineData("{\"id\":1}", ErrorCode.BadRequest, "field 'msgid' is required")]
    [InlineData("{\"msgid\":\"1\"}", ErrorCode.BadRequest, "field 'msgid' must be an integer")]
    [InlineData("{\"msgid\":1.5}", ErrorCode.BadRequest, "field 'msgid' must be an integer")]
    [InlineData("{\"msgid\":99}", ErrorCode.UnknownMsgId, "unknown msgid")]
    [InlineData("{\"msgid\":6,\"toid\":\"2\"}", ErrorCode.BadRequest, "field 'toid' must be an integer")]
    [InlineData("{\"msgid\":6,\"msg\":5}", ErrorCode.BadRequest, "field 'msg' must be a string")]
    [InlineData("{\"msgid\":6,\"toid\":99999999999}", ErrorCode.BadRequest, "field 'toid' must be an integer")]
    [InlineData("{\"msgid\":13} {}", ErrorCode.BadRequest, "malformed JSON")]
    public void Bad_frames_get_a_code_and_a_readable_message(string json, ErrorCode code, string message)
    {
        var error = Reject(json);
        Assert.Equal((code, message), (error.Code, error.Message));
    }

    [Fact]
    public void An_error_keeps_the_msgid_and_cid_it_could_read()
    {
        var error = Reject("""{"toid":"x","msgid":6,"cid":"a"}""");
        Assert.Equal((6, "a"), (error.MsgId, error.Cid));
    }

    [Fact]
    public void Invalid_utf8_is_rejected()
    {
        byte[] bytes = [.. "{\"msgid\":6,\"msg\":\""u8.ToArray(), 0xC3, 0x28, .. "\"}"u8.ToArray()];
        Assert.Equal("frame is not valid UTF-8", Reject(bytes).Message);
    }

    [Fact]
    public void Deep_nesting_is_rejected_not_recursed()
    {
        var json = "{\"msgid\":13,\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        Assert.Equal(ErrorCode.BadRequest, Reject(json).Code);
    }
}
