using System.Text;

namespace Chat.Tests.Integration;

/// <summary>Bad input gets an error frame and the connection, and everyone else, keeps being served.</summary>
public sealed class BadInputTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private int Port => fixture.Replica.ChatPort;

    public static TheoryData<string, int, string> BadFrames() => new()
    {
        { "this is not json\n", 4, "malformed JSON" },
        { "[1,2,3]\n", 4, "frame must be a JSON object" },
        { "42\n", 4, "frame must be a JSON object" },
        { "{\"msgid\":77}\n", 5, "unknown msgid" },
        { "{\"msgid\":2}\n", 5, "msgid 2 is not a request" },
        { "{\"msgid\":\"6\"}\n", 4, "field 'msgid' must be an integer" },
        { "{\"msgid\":6,\"toid\":\"bob\",\"msg\":\"x\"}\n", 4, "field 'toid' must be an integer" },
        { "{\"msgid\":6,\"msg\":\"no toid\"}\n", 4, "ONE_CHAT needs toid and msg" },
        { "{\"msgid\":10,\"groupid\":1}\n", 4, "GROUP_CHAT needs groupid and msg" },
        { "{\"msgid\":7}\n", 4, "field 'friendid' is required" },
        { "{\"msgid\":9,\"groupid\":[1]}\n", 4, "field 'groupid' must be an integer" },
        { "{\"msgid\":13,\"cid\":{\"a\":1}}\n", 4, "field 'cid' must be a string or number of at most 64 characters" },
        { "{\"msgid\":6,\n", 4, "malformed JSON" },
        { "{\"msgid\":6,\"toid\":1,\"msg\":\"a\\u0000b\"}\n", 4, "msg must not contain NUL or unpaired surrogates" },
        { "{\"msgid\":6,\"toid\":1,\"msg\":\"\\ud800\"}\n", 4, "field 'msg' must not contain unpaired surrogates" },
        { "{\"msgid\":10,\"groupid\":1,\"msg\":\"x\",\"time\":\"\\udc00\"}\n", 4, "field 'time' must not contain unpaired surrogates" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_bad_frame_gets_an_error_and_the_connection_keeps_working(string frame, int errno, string errmsg)
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));

        await alice.SendRawAsync(Encoding.UTF8.GetBytes(frame));
        var error = await alice.ReceiveAsync(12);

        Assert.Equal(errno, (int)error["errno"]!);
        Assert.Equal(errmsg, (string)error["errmsg"]!);
        await alice.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Invalid_utf8_gets_an_error_and_the_connection_keeps_working()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));

        await alice.SendRawAsync([.. "{\"msgid\":6,\"toid\":1,\"msg\":\""u8.ToArray(), 0xFF, 0xFE, .. "\"}\n"u8.ToArray()]);
        var error = await alice.ReceiveAsync(12);

        Assert.Equal((4, "frame is not valid UTF-8"), ((int)error["errno"]!, (string)error["errmsg"]!));
        await alice.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Seed_style_nul_terminated_crlf_coalesced_and_split_frames_are_all_understood()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        string Chat(string msg) => $"{{\"msgid\":6,\"id\":{alice.Id},\"name\":\"{alice.Name}\",\"toid\":{bob.Id},\"msg\":\"{msg}\",\"time\":\"t\"}}";

        // NUL-terminated (the seed client sends strlen+1 bytes), CRLF, and three frames in one write.
        await alice.SendRawAsync(Encoding.UTF8.GetBytes(Chat("nul") + "\0" + Chat("crlf") + "\r\n" + Chat("plain") + "\n"));
        // One frame split across two writes, and an empty frame between.
        var split = Encoding.UTF8.GetBytes("\n" + Chat("split") + "\n");
        await alice.SendRawAsync(split[..10]);
        await alice.SendRawAsync(split[10..]);

        foreach (var expected in new[] { "nul", "crlf", "plain", "split" })
        {
            Assert.Equal(expected, (string)(await bob.ReceiveAsync(6))["msg"]!);
        }
    }

    [Fact]
    public async Task An_oversized_frame_gets_an_error_then_a_close_and_others_are_unaffected()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));
        await using var attacker = await TestClient.ConnectAsync(Port);

        // No terminator at all: the server must give up once the limit is passed, not buffer forever.
        var huge = Encoding.UTF8.GetBytes("{\"msgid\":13,\"pad\":\"" + new string('x', 200_000));
        try
        {
            await attacker.SendRawAsync(huge);
        }
        catch (IOException)
        {
            // The server may close before taking all of it.
        }

        var error = await attacker.ReceiveAsync(12);
        Assert.Equal(8, (int)error["errno"]!);
        Assert.Null(await attacker.ReceiveOrCloseAsync());

        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "still here" });
        Assert.Equal("still here", (string)(await bob.ReceiveAsync(6))["msg"]!);
    }

    [Fact]
    public async Task A_cid_ending_in_a_space_is_refused_with_errno_4_as_on_every_store()
    {
        // MySQL's utf8mb4_bin compares "c1" and "c1 " as equal: refused on every engine alike, before any store.
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(Port, TestClient.Unique("bob"));

        var ack = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "x", cid = "c1 " });

        Assert.Equal((11, 4, "c1 "), ((int)ack["msgid"]!, (int)ack["errno"]!, (string)ack["cid"]!));
        await bob.AssertNothingPendingAsync();
    }

        [Fact]
    public async Task A_frame_just_under_the_limit_is_served()
    {
        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        // Not a chat text (those stop at Chat:MaxMessageChars): a PING padded with a field the server skips.
        const string prefix = "{\"msgid\":13,\"cid\":\"big\",\"pad\":\"";
        var padding = new string('a', 64 * 1024 - prefix.Length - 2);

        await alice.SendRawAsync(Encoding.UTF8.GetBytes(prefix + padding + "\"}\n"));

        Assert.Equal("big", (string)(await alice.ReceiveAsync(14))["cid"]!);
    }

    [Fact]
    public async Task A_client_that_sends_then_half_closes_at_once_still_gets_its_answer()
    {
        // Regression: `printf '{"msgid":13}\n' | nc -q1 host port` got no PONG: connect, write and FIN arrive
        // before the server's first read, and Kestrel's ConnectionClosed (fired on FIN) cancelled that read.
        for (var i = 0; i < 20; i++)
        {
            var answer = await TestClient.ExchangeAsync(Port, "{\"msgid\":13,\"cid\":1}\n"u8.ToArray(), halfClose: true);

            Assert.Equal("{\"msgid\":14,\"cid\":1}\n", answer);
        }
    }

    [Fact]
    public async Task Random_garbage_never_takes_the_server_down()
    {
        var random = new Random(1234);
        for (var i = 0; i < 20; i++)
        {
            await using var client = await TestClient.ConnectAsync(Port);
            var bytes = new byte[random.Next(1, 4096)];
            random.NextBytes(bytes);
            // One frame of garbage: no terminators inside it.
            bytes = [.. bytes.Select(b => b is (byte)'\n' or 0 ? (byte)'x' : b)];
            await client.SendRawAsync([.. bytes, (byte)'\n']);
            var error = await client.ReceiveAsync(12);
            Assert.Equal(4, (int)error["errno"]!);
        }

        await using var alice = await TestClient.LoggedInAsync(Port, TestClient.Unique("alice"));
        await alice.AssertNothingPendingAsync();
    }
}
