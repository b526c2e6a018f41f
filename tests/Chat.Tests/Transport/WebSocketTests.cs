using System.Net.WebSockets;
using System.Text;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Transport;

/// <summary><c>/ws</c> on a real replica: the chat protocol over a WebSocket, one text message per frame, beside TCP.</summary>
public sealed class WebSocketTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private Replica Replica => fixture.Replica;

    [Fact]
    public async Task A_WebSocket_user_and_a_TCP_user_chat_with_each_other()
    {
        await using var web = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(Replica.HttpPort), TestClient.Unique("web"), v: 2);
        await using var tcp = await TestClient.LoggedInAsync(Replica.ChatPort, TestClient.Unique("tcp"), v: 2);

        var ack = await web.RequestAsync(new { msgid = 6, toid = tcp.Id, msg = "from the browser ✓", cid = "w-1" });
        var atTcp = await tcp.ReceiveAsync(6);
        await tcp.SendAsync(new { msgid = 6, toid = web.Id, msg = "from the terminal" });
        var atWeb = await web.ReceiveAsync(6);

        Assert.Equal((11, "w-1", 0), ((int)ack["msgid"]!, (string?)ack["cid"], (int)ack["errno"]!));
        Assert.Equal((web.Id, web.Name, "from the browser ✓"), ((int)atTcp["id"]!, (string)atTcp["name"]!, (string)atTcp["msg"]!));
        Assert.Equal((tcp.Id, "from the terminal"), ((int)atWeb["id"]!, (string)atWeb["msg"]!));
        await web.AssertNothingPendingAsync();
        await tcp.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Each_server_frame_is_one_text_message_without_a_line_break()
    {
        await using var web = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        var socket = web.WebSocket!;

        await socket.SendAsync("""{"msgid":13,"cid":"a"}"""u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, default);
        var buffer = new byte[1024];
        using var deadline = new CancellationTokenSource(TestClient.Deadline);
        var received = await socket.ReceiveAsync(buffer, deadline.Token);

        Assert.Equal((WebSocketMessageType.Text, true), (received.MessageType, received.EndOfMessage));
        Assert.Equal("""{"msgid":14,"cid":"a"}""", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    [Fact]
    public async Task A_message_is_one_frame_even_with_line_breaks_inside_and_frames_may_come_in_fragments()
    {
        await using var web = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        var socket = web.WebSocket!;

        // Pretty-printed JSON (line breaks between tokens), sent as three fragments of one message.
        var frame = "{\r\n  \"msgid\": 13,\n  \"cid\": \"split\"\n}"u8.ToArray();
        await socket.SendAsync(frame.AsMemory(0, 5), WebSocketMessageType.Text, endOfMessage: false, default);
        await socket.SendAsync(frame.AsMemory(5, 10), WebSocketMessageType.Text, endOfMessage: false, default);
        await socket.SendAsync(frame.AsMemory(15), WebSocketMessageType.Text, endOfMessage: true, default);
        var pong = await web.ReceiveAsync((int)MsgId.Pong);

        Assert.Equal("split", (string?)pong["cid"]);
        await web.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Before_login_only_LOGIN_REG_and_PING_are_served_and_identity_comes_from_the_login()
    {
        await using var web = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        await using var bob = await TestClient.LoggedInAsync(Replica.ChatPort, TestClient.Unique("bob"));

        var refused = await web.RequestAsync(new { msgid = 6, id = bob.Id, toid = bob.Id, msg = "not yet" });
        await TestClient.RegisterAndLogInAsync(web, TestClient.Unique("web"));
        await web.SendAsync(new { msgid = 6, id = bob.Id, name = bob.Name, toid = bob.Id, msg = "I am bob" });
        var atBob = await bob.ReceiveAsync(6);

        Assert.Equal(((int)MsgId.Error, (int)ErrorCode.NotLoggedIn), ((int)refused["msgid"]!, (int)refused["errno"]!));
        Assert.Equal((web.Id, web.Name), ((int)atBob["id"]!, (string)atBob["name"]!));
    }

    [Fact]
    public async Task A_plain_GET_on_the_WebSocket_path_is_refused()
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{Replica.HttpPort}/ws"));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_message_over_the_frame_limit_gets_an_error_frame_then_close_1009_and_others_are_served()
    {
        await using var web = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        await using var other = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        var huge = Encoding.UTF8.GetBytes($$"""{"msgid":13,"cid":"{{new string('x', 64 * 1024)}}"}""");

        await web.WebSocket!.SendAsync(huge, WebSocketMessageType.Text, endOfMessage: true, default);
        var error = await web.ReceiveAsync();

        Assert.Equal(((int)MsgId.Error, (int)ErrorCode.FrameTooLarge), ((int)error["msgid"]!, (int)error["errno"]!));
        Assert.Null(await web.ReceiveOrCloseAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, web.WebSocket.CloseStatus);
        await other.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_binary_message_gets_an_error_frame_then_close_1003_after_the_frames_before_it()
    {
        await using var web = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        var socket = web.WebSocket!;

        await web.SendAsync(new { msgid = 13, cid = "before" });
        await socket.SendAsync("""{"msgid":13}"""u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, default);
        var pong = await web.ReceiveAsync((int)MsgId.Pong);
        var error = await web.ReceiveAsync();

        Assert.Equal("before", (string?)pong["cid"]);
        Assert.Equal(((int)MsgId.Error, (int)ErrorCode.BadRequest), ((int)error["msgid"]!, (int)error["errno"]!));
        Assert.Null(await web.ReceiveOrCloseAsync());
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, socket.CloseStatus);
    }

    [Fact]
    public async Task A_text_message_that_is_not_UTF8_is_closed_with_1007_and_others_are_served()
    {
        await using var web = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        await using var other = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        var socket = web.WebSocket!;

        await socket.SendAsync(new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}' }, WebSocketMessageType.Text, endOfMessage: true, default);

        // The WebSocket layer fails the connection itself (RFC 6455 8.1): there is no chance to write an ERROR first.
        Assert.Null(await web.ReceiveOrCloseAsync());
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, socket.CloseStatus);
        await other.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Malformed_JSON_in_a_message_gets_the_same_error_frame_as_on_TCP_and_the_connection_stays()
    {
        await using var web = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        await using var tcp = await TestClient.ConnectAsync(Replica.ChatPort);

        await web.SendRawAsync("{\"msgid\":6,\"msg\n"u8.ToArray());
        await tcp.SendRawAsync("{\"msgid\":6,\"msg\n"u8.ToArray());
        var overWebSocket = await web.ReceiveAsync();
        var overTcp = await tcp.ReceiveAsync();

        Assert.Equal(overTcp.ToJsonString(), overWebSocket.ToJsonString());
        await web.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task The_client_closing_ends_the_session_and_the_user_can_log_in_again()
    {
        var name = TestClient.Unique("web");
        var web = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(Replica.HttpPort), name);
        var socket = web.WebSocket!;

        using (var deadline = new CancellationTokenSource(TestClient.Deadline))
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", deadline.Token);
        }

        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        await web.DisposeAsync();
        // The seed's rule (Chat:Login:Multiple = reject): a second login is refused while the first session lives.
        await using var again = await TestClient.ConnectWebSocketAsync(Replica.HttpPort);
        await Wait.UntilAsync(async () => (int)(await again.LoginAsync(web.Id, "pw-" + name))["errno"]! == 0, TestClient.Deadline, "the user can log in again");
    }

    [Fact]
    public async Task PING_and_PONG_work_at_both_levels_WebSocket_control_frames_and_msgid_13()
    {
        await using var raw = await RawWebSocket.ConnectAsync(Replica.HttpPort);

        await raw.SendAsync(RawWebSocket.Ping, "are you there"u8.ToArray());
        var pong = await raw.ReceiveAsync(RawWebSocket.Pong);
        await raw.SendAsync(RawWebSocket.Text, """{"msgid":13,"cid":"p"}"""u8.ToArray());
        var chatPong = await raw.ReceiveAsync(RawWebSocket.Text);

        Assert.Equal("are you there", Encoding.UTF8.GetString(pong));
        Assert.Equal("""{"msgid":14,"cid":"p"}""", Encoding.UTF8.GetString(chatPong));
    }
}
