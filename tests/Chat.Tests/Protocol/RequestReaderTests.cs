using System.Buffers;
using System.Text;
using Chat.Protocol;

namespace Chat.Tests.Protocol;

[Trait("Kind", "Unit")]
public sealed class RequestReaderTests
{
    private static Request Parse(string json)
    {
        Assert.True(RequestReader.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out var request, out var error), error?.Message);
        return request;
    }

    private static RequestError Reject(byte[] bytes)
    {
        Assert.False(RequestReader.TryParse(new ReadOnlySequence<byte>(bytes), out _, out var error));
        return error;
    }

    private static RequestError Reject(string json) => Reject(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_the_seed_clients_one_chat_frame()
    {
        var r = Assert.IsType<OneChatRequest>(Parse("""{"msgid":6,"id":1,"name":"zhang san","toid":2,"msg":"hello \"there\" \\ 你好","time":"2024-01-01 10:00:00"}"""));
        Assert.Equal(MsgId.OneChat, r.MsgId);
        Assert.Equal(2, r.ToId);
        Assert.Equal("hello \"there\" \\ 你好", r.Msg);
        Assert.Equal("2024-01-01 10:00:00", r.Time);
    }

    [Fact]
    public void Reads_every_field_and_skips_unknown_ones()
    {
        var r = Assert.IsType<CreateGroupRequest>(Parse("""{"extra":{"deep":[1,2,{"x":null}]},"msgid":8,"groupname":"g","groupdesc":"d","groupid":7,"friendid":9,"password":"p","v":2,"cid":"c-1"}"""));
        Assert.Equal(("g", "d", Cid.From("c-1")), (r.GroupName, r.GroupDesc, r.Cid));
        var login = Assert.IsType<LoginRequest>(Parse("""{"msgid":1,"id":7,"password":"p","v":2,"resume":[{"peer":3,"seq":9}]}"""));
        Assert.Equal((7, "p", 2, new ResumePoint(3, null, 9)), (login.Id, login.Password, login.Version, login.Resume!.Single()));
    }

    [Fact]
    public void A_numeric_cid_is_kept_as_a_number_with_its_text()
    {
        Assert.Equal(new Cid("42", IsNumber: true), Parse("""{"msgid":13,"cid":42}""").Cid);
        Assert.Equal(new Cid("42", IsNumber: false), Parse("""{"msgid":13,"cid":"42"}""").Cid);
    }

    [Theory]
    [InlineData("""{"msgid":1,"id":7}""", MsgId.Login, ErrorCode.Invalid, "LOGIN needs id and password (or token)")]
    [InlineData("""{"msgid":6,"toid":7}""", MsgId.OneChat, ErrorCode.BadRequest, "ONE_CHAT needs toid and msg")]
    [InlineData("""{"msgid":10,"msg":"x"}""", MsgId.GroupChat, ErrorCode.BadRequest, "GROUP_CHAT needs groupid and msg")]
    [InlineData("""{"msgid":7}""", MsgId.AddFriend, ErrorCode.BadRequest, "field 'friendid' is required")]
    [InlineData("""{"msgid":9}""", MsgId.AddGroup, ErrorCode.BadRequest, "field 'groupid' is required")]
    [InlineData("""{"msgid":2}""", MsgId.LoginAck, ErrorCode.UnknownMsgId, "msgid 2 is not a request")]
    public void A_request_lacking_what_it_needs_is_invalid_for_its_type(string json, MsgId type, ErrorCode code, string problem)
    {
        Assert.Equal(new InvalidRequest(type, code, problem), Parse(json));
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
        Assert.Equal((6, Cid.From("a")), (error.MsgId, error.Cid));
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
