using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Chat.Domain;
using Chat.Persistence;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Files;

/// <summary>PROFILE, FIND and BLOCK on the real cluster: two replicas on MariaDB and Redis behind nginx.</summary>
public sealed class PeopleTests(FilesClusterFixture cluster) : IClassFixture<FilesClusterFixture>, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private int _cids;

    public void Dispose() => _http.Dispose();

    private sealed record User(TestClient Chat, int Id, string Name, string Password, string Token) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Chat.DisposeAsync();
    }

    private static async Task<User> UserAsync(int port, string name, int v = 2)
    {
        var chat = await TestClient.ConnectAsync(port);
        var id = await chat.RegisterAsync(name, "pw-" + name);
        var ack = await chat.LoginAsync(id, "pw-" + name, v);
        Assert.Equal(0, (int)ack["errno"]!);
        return new User(chat, id, name, "pw-" + name, (string?)ack["token"] ?? "");
    }

    /// <summary>Sends with a fresh cid and returns its ACK, passing over pushes that come first.</summary>
    private async Task<JsonObject> AckedAsync(TestClient client, object frame)
    {
        var cid = $"p{++_cids}";
        var node = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(frame))!.AsObject();
        node["cid"] = cid;
        await client.SendRawAsync(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString() + "\n"));
        return await client.ReceiveUntilAsync(f => (int)f["msgid"]! == (int)MsgId.Ack && (string?)f["cid"] == cid);
    }

    private async Task<string> UploadAsync(string token, string name, byte[] body, string type)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{cluster.Nginx.HttpPort}/files?name={name}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
    }

    [Fact]
    public async Task A_profile_reaches_friends_on_the_other_replica_and_their_next_login_not_seed_sessions()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, TestClient.Unique("pa"));
        await using var bob = await UserAsync(cluster.B.ChatPort, TestClient.Unique("pb"));
        await using var carol = await UserAsync(cluster.B.ChatPort, TestClient.Unique("pc"), v: 0);
        Assert.Equal(0, (int)(await AckedAsync(bob.Chat, new { msgid = 7, friendid = alice.Id }))["errno"]!);
        Assert.Equal(0, (int)(await AckedAsync(carol.Chat, new { msgid = 7, friendid = alice.Id }))["errno"]!);

        var notImage = await UploadAsync(alice.Token, "a.txt", "text"u8.ToArray(), "text/plain");
        Assert.Equal((int)ErrorCode.NotFound, (int)(await AckedAsync(alice.Chat, new { msgid = 27, avatar = notImage }))["errno"]!);
        Assert.Equal((int)ErrorCode.BadRequest, (int)(await AckedAsync(alice.Chat, new { msgid = 27, about = new string('x', 141) }))["errno"]!);

        var avatar = await UploadAsync(alice.Token, "me.png", TestImages.Png(64, 64), "image/png");
        Assert.Equal(0, (int)(await AckedAsync(alice.Chat, new { msgid = 27, about = "hello there", avatar }))["errno"]!);

        var push = await bob.Chat.ReceiveUntilAsync(f => (int)f["msgid"]! == (int)MsgId.Profile);
        Assert.Equal(alice.Id, (int)push["id"]!);
        Assert.Equal("hello there", (string)push["about"]!);
        Assert.Equal(avatar, (string)push["avatar"]!);
        await carol.Chat.AssertNothingPendingAsync();

        // Anyone logged in may see an avatar.
        using (var get = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{cluster.B.HttpPort}/files/{avatar}"))
        {
            get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bob.Token);
            using var response = await _http.SendAsync(get);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await using var again = await TestClient.ConnectAsync(cluster.Nginx.Port);
        await bob.Chat.SendAsync(new LogoutRequest());
        await bob.Chat.AssertNothingPendingAsync();
        var ack = await again.LoginAsync(bob.Id, bob.Password, v: 2);
        var friend = ack["friends"]!.AsArray().Single(f => (int)f!["id"]! == alice.Id)!;
        Assert.Equal("hello there", (string)friend["about"]!);
        Assert.Equal(avatar, (string)friend["avatar"]!);
    }

    [Fact]
    public async Task Find_answers_by_name_prefix_ignoring_case_and_is_rate_limited()
    {
        var stem = "Fz" + Guid.NewGuid().ToString("N")[..8];
        await using var one = await UserAsync(cluster.A.ChatPort, stem + "One");
        await using var two = await UserAsync(cluster.B.ChatPort, stem.ToUpperInvariant() + "two");
        await using var other = await UserAsync(cluster.A.ChatPort, TestClient.Unique("zz"));
        Assert.Equal(0, (int)(await AckedAsync(one.Chat, new { msgid = 27, about = "first" }))["errno"]!);

        var found = await AckedAsync(other.Chat, new { msgid = 28, q = stem.ToLowerInvariant() });
        Assert.Equal(0, (int)found["errno"]!);
        var users = found["users"]!.AsArray().Select(u => u!.AsObject()).ToList();
        Assert.Equal([one.Id, two.Id], users.Select(u => (int)u["id"]!).Order());
        Assert.Equal("first", (string)users.Single(u => (int)u["id"]! == one.Id)["about"]!);

        // Without a cid the answer is FIND (28) itself.
        await other.Chat.SendAsync(new { msgid = 28, q = stem });
        var plain = await other.Chat.ReceiveAsync((int)MsgId.Find);
        Assert.Equal(2, plain["users"]!.AsArray().Count);

        Assert.Equal((int)ErrorCode.BadRequest, (int)(await AckedAsync(other.Chat, new { msgid = 28, q = "F" }))["errno"]!);

        // A burst of 10, then errno 11 (a few more tries in case a token came back meanwhile).
        var refused = false;
        for (var i = 0; i < 30 && !refused; i++)
        {
            refused = (int)(await AckedAsync(two.Chat, new { msgid = 28, q = stem }))["errno"]! == (int)ErrorCode.TooManyAttempts;
        }

        Assert.True(refused, "FIND was never refused");
    }

    [Fact]
    public async Task A_blocked_user_on_the_other_replica_cannot_write_or_befriend_and_hears_nothing_live()
    {
        await using var alice = await UserAsync(cluster.A.ChatPort, TestClient.Unique("ba"));
        await using var bob = await UserAsync(cluster.B.ChatPort, TestClient.Unique("bb"));
        Assert.Equal(0, (int)(await AckedAsync(alice.Chat, new { msgid = 7, friendid = bob.Id }))["errno"]!);
        // Friends both ways: bob hears alice's presence from the other replica.
        Assert.Equal(0, (int)(await AckedAsync(bob.Chat, new { msgid = 7, friendid = alice.Id }))["errno"]!);
        await alice.Chat.SendAsync(new LogoutRequest());
        await alice.Chat.SendAsync(new LoginRequest(alice.Id, alice.Password, 2, null));
        Assert.Equal(0, (int)(await alice.Chat.ReceiveUntilAsync(f => (int)f["msgid"]! == (int)MsgId.LoginAck))["errno"]!);
        await bob.Chat.ReceiveUntilAsync(f => (int)f["msgid"]! == (int)MsgId.Presence && (int)f["id"]! == alice.Id && (string?)f["state"] == "online");

        Assert.Equal(0, (int)(await AckedAsync(alice.Chat, new { msgid = 29, userid = bob.Id }))["errno"]!);
        // At once, on bob's replica too: alice is offline to bob, and stays so (checked after her next login below).
        await bob.Chat.ReceiveUntilAsync(f => (int)f["msgid"]! == (int)MsgId.Presence && (int)f["id"]! == alice.Id && (string?)f["state"] == "offline");

        // Bob's replica learns of the block within its cache's lifetime: probe until refused.
        var conversation = ConversationId.Direct(alice.Id, bob.Id);
        await Wait.UntilAsync(
            async () => (int)(await AckedAsync(bob.Chat, new { msgid = 6, toid = alice.Id, msg = "probe" }))["errno"]! == (int)ErrorCode.NotAllowed,
            TestClient.Deadline,
            "bob's ONE_CHAT to alice refused");
        var stored = await MessagesAsync(conversation);
        Assert.Equal((int)ErrorCode.NotAllowed, (int)(await AckedAsync(bob.Chat, new { msgid = 6, toid = alice.Id, msg = "again" }))["errno"]!);
        Assert.Equal((int)ErrorCode.NotAllowed, (int)(await AckedAsync(bob.Chat, new { msgid = 7, friendid = alice.Id }))["errno"]!);
        Assert.Equal(stored, await MessagesAsync(conversation));

        // Alice's typing and reading do not reach bob; alice may still write to him.
        await alice.Chat.SendAsync(new { msgid = 19, peer = bob.Id });
        Assert.Equal(0, (int)(await AckedAsync(alice.Chat, new { msgid = 6, toid = bob.Id, msg = "one way" }))["errno"]!);
        var chat = await bob.Chat.ReceiveUntilAsync(f => (int)f["msgid"]! is (int)MsgId.OneChat or (int)MsgId.Typing);
        Assert.Equal((int)MsgId.OneChat, (int)chat["msgid"]!);
        await alice.Chat.SendAsync(new { msgid = 17, peer = bob.Id, seq = 1000 });
        await alice.Chat.AssertNothingPendingAsync();
        await bob.Chat.AssertNothingPendingAsync();

        // Alice's next v2 login lists whom she blocked.
        await alice.Chat.SendAsync(new LogoutRequest());
        await alice.Chat.AssertNothingPendingAsync();
        var ack = await alice.Chat.LoginAsync(alice.Id, alice.Password, v: 2);
        Assert.Equal([bob.Id], ack["blocked"]!.AsArray().Select(b => (int)b!));
        await bob.Chat.AssertNothingPendingAsync(); // no PRESENCE of alice's logout and login

        // Unblocked: bob may write again.
        Assert.Equal(0, (int)(await AckedAsync(alice.Chat, new { msgid = 29, userid = bob.Id, on = false }))["errno"]!);
        await Wait.UntilAsync(
            async () => (int)(await AckedAsync(bob.Chat, new { msgid = 6, toid = alice.Id, msg = "hi again" }))["errno"]! == 0,
            TestClient.Deadline,
            "bob's ONE_CHAT to alice taken again");
    }

    private async Task<int> MessagesAsync(long conversation)
    {
        await using var scope = cluster.A.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ChatDbContext>().Messages.CountAsync(m => m.ConversationId == conversation);
    }
}
