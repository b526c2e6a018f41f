using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Chat.Server.Transport;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Chat.Tests.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Chat.Tests.Limits;

/// <summary>
/// Connections one address may hold, how long a connection may stay without logging in, and how many may wait to log
/// in: each against a replica of its own, configured tightly for it; clients from distinct loopback addresses.
/// </summary>
public sealed class ConnectionCapsTests(ITestOutputHelper output)
{
    private const string Refused = "chat.connections.refused";

    private static async Task<Replica> StartAsync(string name, Dictionary<string, string?> settings)
    {
        var postgres = await PostgresServer.StartedAsync();
        return await Replica.StartAsync(await postgres.CreateDatabaseAsync(name), settings);
    }

    private static IPAddress Address(int last) => IPAddress.Parse($"127.0.0.{last}");

    private static void AssertError(JsonObject? frame, int errno, string errmsgStart)
    {
        Assert.NotNull(frame);
        Assert.True((int)frame["msgid"]! == 12 && (int)frame["errno"]! == errno, frame.ToJsonString());
        Assert.StartsWith(errmsgStart, (string)frame["errmsg"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_address_over_its_cap_is_refused_with_errno_11_over_TCP_and_WebSocket_while_other_addresses_are_served()
    {
        await using var replica = await StartAsync("peraddress", new() { ["Chat:MaxConnectionsPerAddress"] = "3" });
        using var metrics = new MetricCapture(replica.Services);
        var registry = replica.Services.GetRequiredService<ConnectionRegistry>();
        var flooder = Address(21);
        var held = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = i == 2 ? await TestClient.ConnectWebSocketAsync(replica.HttpPort, flooder) : await TestClient.ConnectAsync(replica.ChatPort, flooder);
            await client.AssertNothingPendingAsync();
            held.Add(client);
        }

        await using (var tcp = await TestClient.ConnectAsync(replica.ChatPort, flooder))
        {
            AssertError(await tcp.ReceiveOrCloseAsync(), 11, "too many connections from your address (at most 3)");
            Assert.Null(await tcp.ReceiveOrCloseAsync());
        }

        await using (var ws = await TestClient.ConnectWebSocketAsync(replica.HttpPort, flooder))
        {
            AssertError(await ws.ReceiveOrCloseAsync(), 11, "too many connections from your address");
            Assert.Null(await ws.ReceiveOrCloseAsync());
        }

        // Another address registers, logs in and chats meanwhile.
        await using var alice = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectAsync(replica.ChatPort, Address(22)), TestClient.Unique("alice"));
        await using var bob = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(replica.HttpPort, Address(23)), TestClient.Unique("bob"));
        Assert.Equal(11, (int)(await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "hi", cid = "c" }))["msgid"]!);
        Assert.Equal("hi", (string)(await bob.ReceiveAsync(6))["msg"]!);

        // A connection given up frees its place.
        await held[0].DisposeAsync();
        await Wait.UntilAsync(() => registry.CountFrom(flooder) == 2, TestClient.Deadline, "the closed connection is counted out");
        await using var again = await TestClient.ConnectAsync(replica.ChatPort, flooder);
        await again.AssertNothingPendingAsync();

        Assert.Equal(2, metrics.Sum(Refused, "reason", "address_full"));
        foreach (var client in held.Skip(1))
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_connection_not_logged_in_by_the_deadline_is_closed_even_while_it_pings_and_a_logged_in_one_stays()
    {
        var deadline = TimeSpan.FromSeconds(2);
        await using var replica = await StartAsync("deadline", new() { ["Chat:LoginDeadline"] = "00:00:02" });
        using var metrics = new MetricCapture(replica.Services);

        await using var user = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectAsync(replica.ChatPort, Address(32)), TestClient.Unique("user"));
        var clock = Stopwatch.StartNew();
        await using var pinger = await TestClient.ConnectAsync(replica.ChatPort, Address(31));
        JsonObject? ending;
        var pongs = 0;
        while (true)
        {
            await pinger.SendAsync(new { msgid = 13 });
            ending = await pinger.ReceiveOrCloseAsync();
            if ((int?)ending?["msgid"] != 14)
            {
                break;
            }

            pongs++;
            await Task.Delay(200);
        }

        var closedAfter = clock.Elapsed;
        output.WriteLine($"closed after {closedAfter.TotalMilliseconds:0} ms and {pongs} PONGs");
        AssertError(ending, 3, "not logged in within 2 s of connecting");
        Assert.Null(await pinger.ReceiveOrCloseAsync());
        Assert.True(closedAfter >= deadline - TimeSpan.FromMilliseconds(100), $"closed after {closedAfter}, before the deadline");
        Assert.True(pongs >= 5, $"only {pongs} PONGs before the close");

        // The user who logged in in time is past the deadline and still served.
        Assert.True(clock.Elapsed > deadline);
        await user.AssertNothingPendingAsync();

        // LOGINOUT makes the connection anonymous again, with a fresh deadline.
        var loggedOut = Stopwatch.StartNew();
        Assert.Equal(0, (int)(await user.RequestAsync(new { msgid = 3, cid = "out" }))["errno"]!);
        AssertError(await user.ReceiveOrCloseAsync(TimeSpan.FromSeconds(10)), 3, "not logged in within 2 s");
        Assert.True(loggedOut.Elapsed >= deadline - TimeSpan.FromMilliseconds(100), $"closed {loggedOut.Elapsed} after LOGINOUT");
        Assert.Null(await user.ReceiveOrCloseAsync());

        Assert.Equal(2, metrics.Sum(Refused, "reason", "login_deadline"));
    }

    [Fact]
    public async Task Over_the_anonymous_cap_the_oldest_connection_not_logged_in_is_closed_first()
    {
        await using var replica = await StartAsync("anonymous", new() { ["Chat:MaxAnonymousConnections"] = "3" });
        using var metrics = new MetricCapture(replica.Services);
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(replica.HttpPort), TestClient.Unique("bob"));

        var waiting = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = i == 0 ? await TestClient.ConnectWebSocketAsync(replica.HttpPort, Address(41 + i)) : await TestClient.ConnectAsync(replica.ChatPort, Address(41 + i));
            await client.AssertNothingPendingAsync();
            waiting.Add(client);
        }

        await using var newest = await TestClient.ConnectAsync(replica.ChatPort, Address(44));

        AssertError(await waiting[0].ReceiveOrCloseAsync(), 10, "too many connections are waiting to log in");
        Assert.Null(await waiting[0].ReceiveOrCloseAsync());
        foreach (var client in waiting.Skip(1).Append(newest))
        {
            await client.AssertNothingPendingAsync();
        }

        // Logged-in users never count: they chat on, and one that logs in leaves room for another.
        Assert.Equal(11, (int)(await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "hi", cid = "c" }))["msgid"]!);
        Assert.Equal("hi", (string)(await bob.ReceiveAsync(6))["msg"]!);
        await TestClient.RegisterAndLogInAsync(waiting[1], TestClient.Unique("carol"));
        await using var another = await TestClient.ConnectAsync(replica.ChatPort, Address(45));
        await another.AssertNothingPendingAsync();
        await waiting[2].AssertNothingPendingAsync();

        Assert.Equal(1, metrics.Sum(Refused, "reason", "anonymous_full"));
        foreach (var client in waiting)
        {
            await client.DisposeAsync();
        }
    }
}
