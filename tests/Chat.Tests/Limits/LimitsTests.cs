using System.Net;
using System.Text.Json.Nodes;
using Chat.Domain;
using Chat.Server.Hub;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Chat.Tests.Limits;

/// <summary>No client can hurt another: each limit, over real sockets, against a replica configured tightly for it.</summary>
public sealed class LimitsTests(ITestOutputHelper output)
{
    private static async Task<Replica> StartAsync(string name, Dictionary<string, string?> settings)
    {
        var postgres = await PostgresServer.StartedAsync();
        return await Replica.StartAsync(await postgres.CreateDatabaseAsync(name), settings);
    }

    private static async Task<long> ChatAsync(TestClient from, TestClient to, string msg, string cid)
    {
        var ack = await from.RequestAsync(new { msgid = 6, toid = to.Id, msg, cid });
        Assert.True((int)ack["msgid"]! == 11 && (int)ack["errno"]! == 0, ack.ToJsonString());
        var frame = await to.ReceiveAsync(6);
        Assert.Equal(msg, (string)frame["msg"]!);
        return (long)frame["seq"]!;
    }

    [Fact]
    public async Task A_client_that_never_reads_is_disconnected_others_chat_on_and_its_messages_come_at_next_login()
    {
        var database = await (await PostgresServer.StartedAsync()).CreateDatabaseAsync("slow");
        await using var replica = await Replica.StartAsync(database, new Dictionary<string, string?> { ["Chat:OutboundQueueBytes"] = "16384" });
        var aliceName = TestClient.Unique("alice");
        var alice = await TestClient.ConnectAsync(replica.ChatPort, receiveBuffer: 4096);
        var aliceId = await alice.RegisterAsync(aliceName, "pw");
        Assert.Equal(0, (int)(await alice.LoginAsync(aliceId, "pw"))["errno"]!);
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        await using var carol = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("carol"));
        await using var dave = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("dave"));
        var hub = replica.Services.GetRequiredService<ChatHub>();

        // Bob floods Alice, who reads nothing, until the server gives up on her; Carol and Dave chat meanwhile.
        var text = new string('f', 1000);
        var sent = 0;
        var round = 0;
        while (hub.Find(aliceId) is not null)
        {
            Assert.True(sent < 50_000, "the server never disconnected the client that does not read");
            for (var i = 0; i < 200; i++)
            {
                await bob.SendAsync(new { msgid = 6, toid = aliceId, msg = text });
            }

            sent += 200;
            var ack = await bob.RequestAsync(new { msgid = 13, cid = "flood" });
            Assert.Equal(14, (int)ack["msgid"]!);
            Assert.Equal(round + 1, await ChatAsync(carol, dave, $"still flowing {round}", $"c{round}"));
            round++;
        }

        // Alice sees what reached her, then the close.
        var seen = new HashSet<long>();
        while (await alice.ReceiveOrCloseAsync() is { } frame)
        {
            seen.Add((long)frame["seq"]!);
        }

        await alice.DisposeAsync();
        output.WriteLine($"bob sent {sent} messages of 1000 characters; alice read {seen.Count} before she was cut off");
        Assert.True(seen.Count < sent, $"alice was sent {sent} and read {seen.Count}: she should have been cut off");

        // Every message is stored, and what lies beyond her cursor comes in LOGIN_ACK, up to the last one sent.
        // (Frames already handed to the socket when it was aborted count as delivered: see README, "Limits".)
        Assert.Equal(sent, await StoredAsync(database, ConversationId.Direct(bob.Id, aliceId)));
        await using var again = await TestClient.ConnectAsync(replica.ChatPort);
        JsonObject login = null!;
        await Wait.UntilAsync(async () => (int)(login = await again.LoginAsync(aliceId, "pw"))["errno"]! == 0, TestClient.Deadline, "alice can log in again");
        // LOGIN_ACK carries what fits in half her 16 KiB budget; the rest follow it as chat frames, as she reads.
        var offline = login["offlinemsg"]!.AsArray().Select(m => (long)JsonNode.Parse((string)m!)!["seq"]!).ToList();
        Assert.NotEmpty(offline);
        while (offline[^1] < sent)
        {
            offline.Add((long)(await again.ReceiveAsync(6))["seq"]!);
        }

        Assert.Equal(Enumerable.Range((int)offline[0], sent - (int)offline[0] + 1).Select(i => (long)i), offline);
        output.WriteLine($"at her next login: seq {offline[0]} to {sent}; {offline[0] - 1 - seen.Count} counted as delivered without reaching her");
        Assert.Equal(round + 1, await ChatAsync(dave, carol, "after", "after"));
    }

    private static Task<long> StoredAsync(TestDatabase database, long conversationId) =>
        database.ScalarAsync("SELECT count(*) FROM messages WHERE conversation_id = @p0", conversationId);

    [Fact]
    public async Task A_chat_text_over_the_limit_is_refused_and_not_stored()
    {
        await using var replica = await StartAsync("maxchars", []);
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        var groupAck = await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "g" });
        var groupId = (int)groupAck["groupid"]!;
        await bob.RequestAsync(new { msgid = 9, groupid = groupId, cid = "j" });
        var tooLong = new string('x', 4097);

        var acked = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = tooLong, cid = "long" });
        var error = await alice.RequestAsync(new { msgid = 10, groupid = groupId, msg = tooLong });

        Assert.Equal((11, 4, "msg must be at most 4096 characters"), ((int)acked["msgid"]!, (int)acked["errno"]!, (string)acked["errmsg"]!));
        Assert.Equal((12, 4, 10), ((int)error["msgid"]!, (int)error["errno"]!, (int)error["req"]!));
        await bob.AssertNothingPendingAsync();
        // The longest allowed text goes through and is the first of its conversation: nothing else was stored.
        var longest = new string('ü', 4096);
        Assert.Equal(1, await ChatAsync(alice, bob, longest, "ok"));
    }

    [Fact]
    public async Task A_silent_connection_is_closed_and_logged_out_while_a_pinging_one_stays()
    {
        await using var replica = await StartAsync("idle", new() { ["Chat:IdleTimeout"] = "00:00:02" });
        var name = TestClient.Unique("alice");
        await using var silent = await TestClient.ConnectAsync(replica.ChatPort);
        var aliceId = await silent.RegisterAsync(name, "pw");
        Assert.Equal(0, (int)(await silent.LoginAsync(aliceId, "pw"))["errno"]!);
        await using var anonymous = await TestClient.ConnectAsync(replica.ChatPort);
        await using var trickle = await TestClient.ConnectAsync(replica.ChatPort);
        await using var pinger = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        var started = DateTime.UtcNow;

        // The pinger PINGs every half second, for well over two timeouts; the trickler sends bytes but never a frame.
        var trickling = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 20; i++)
                {
                    await trickle.SendRawAsync("{"u8.ToArray());
                    await Task.Delay(250);
                }
            }
            catch (IOException)
            {
                // Closed by the server, as it should be.
            }
        });
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(5))
        {
            await pinger.AssertNothingPendingAsync();
            await Task.Delay(500);
        }

        Assert.Null(await silent.ReceiveOrCloseAsync(TimeSpan.FromSeconds(5)));
        Assert.Null(await anonymous.ReceiveOrCloseAsync(TimeSpan.FromSeconds(5)));
        Assert.Null(await trickle.ReceiveOrCloseAsync(TimeSpan.FromSeconds(5)));
        await trickling;
        await pinger.AssertNothingPendingAsync();

        // The silent user went offline through the logout path: the account is free again.
        await using var again = await TestClient.ConnectAsync(replica.ChatPort);
        Assert.Equal(0, (int)(await again.LoginAsync(aliceId, "pw"))["errno"]!);
    }

    [Fact]
    public async Task Over_max_connections_a_new_connection_gets_server_full_and_the_others_carry_on()
    {
        await using var replica = await StartAsync("maxconn", new() { ["Chat:MaxConnections"] = "3" });
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        var third = await TestClient.ConnectAsync(replica.ChatPort);
        await third.AssertNothingPendingAsync();

        await using (var refused = await TestClient.ConnectAsync(replica.ChatPort))
        {
            var error = await refused.ReceiveAsync(12);
            Assert.Equal((10, "server full: try again later"), ((int)error["errno"]!, (string)error["errmsg"]!));
            Assert.Null(await refused.ReceiveOrCloseAsync());
        }

        await ChatAsync(alice, bob, "unaffected", "u");

        // A freed slot is usable again.
        await third.DisposeAsync();
        var connections = replica.Services.GetRequiredService<ConnectionRegistry>();
        await Wait.UntilAsync(() => connections.Count == 2, TestClient.Deadline, "the closed connection is counted out");
        await using var fourth = await TestClient.ConnectAsync(replica.ChatPort);
        await fourth.AssertNothingPendingAsync();
    }
}

/// <summary>LOGIN/REG brute-force limits, per connection and per client address.</summary>
public sealed class LoginThrottleTests(LoginThrottleTests.Fixture fixture) : IClassFixture<LoginThrottleTests.Fixture>
{
    private int Port => fixture.Replica.ChatPort;

    private async Task<(int Id, string Password)> AccountAsync()
    {
        await using var client = await TestClient.ConnectAsync(Port, IPAddress.Parse("127.0.0.99"));
        var name = TestClient.Unique("user");
        return (await client.RegisterAsync(name, "pw-" + name), "pw-" + name);
    }

    [Fact]
    public async Task After_too_many_failures_a_connection_gets_errno_11_and_is_closed()
    {
        var (id, password) = await AccountAsync();
        await using var client = await TestClient.ConnectAsync(Port, IPAddress.Parse("127.0.0.2"));

        Assert.Equal(1, (int)(await client.LoginAsync(id, "wrong"))["errno"]!);
        Assert.Equal(1, (int)(await client.LoginAsync(id, "wrong again"))["errno"]!);
        var refused = await client.LoginAsync(id, password);

        Assert.Equal((2, 11), ((int)refused["msgid"]!, (int)refused["errno"]!));
        Assert.StartsWith("too many failed attempts on this connection", (string)refused["errmsg"]!);
        Assert.Null(await client.ReceiveOrCloseAsync());
    }

    [Fact]
    public async Task An_address_over_its_budget_gets_errno_11_while_other_addresses_log_in()
    {
        var (id, password) = await AccountAsync();
        var attacker = IPAddress.Parse("127.0.0.3");
        for (var i = 0; i < 3; i++)
        {
            await using var probe = await TestClient.ConnectAsync(Port, attacker);
            Assert.Equal(1, (int)(await probe.LoginAsync(id, $"guess {i}"))["errno"]!);
        }

        await using var blocked = await TestClient.ConnectAsync(Port, attacker);
        var login = await blocked.LoginAsync(id, password);
        var register = await blocked.RequestAsync(new { msgid = 4, name = TestClient.Unique("spam"), password = "x" });

        Assert.Equal((2, 11), ((int)login["msgid"]!, (int)login["errno"]!));
        Assert.StartsWith("too many failed attempts from your address: retry in", (string)login["errmsg"]!);
        Assert.Equal((5, 11), ((int)register["msgid"]!, (int)register["errno"]!));
        await blocked.AssertNothingPendingAsync();

        await using var honest = await TestClient.ConnectAsync(Port, IPAddress.Parse("127.0.0.4"));
        Assert.Equal(1, (int)(await honest.LoginAsync(id, "typo"))["errno"]!);
        Assert.Equal(0, (int)(await honest.LoginAsync(id, password))["errno"]!);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        public Replica Replica { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var postgres = await PostgresServer.StartedAsync();
            Replica = await Replica.StartAsync(await postgres.CreateDatabaseAsync("throttle"), new Dictionary<string, string?>
            {
                ["Chat:LoginFailuresPerConnection"] = "2",
                ["Chat:LoginAttemptsPerAddress"] = "3",
                ["Chat:LoginAttemptRefill"] = "01:00:00",
            });
        }

        public async Task DisposeAsync() => await Replica.DisposeAsync();
    }
}
