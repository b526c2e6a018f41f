using System.Net;
using System.Net.WebSockets;
using Chat.Server.Hub;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Chat.Tests.Transport;

/// <summary>What ends a WebSocket, and who it is from, each against a replica of its own configured for it.</summary>
public sealed class WebSocketLimitsTests(ITestOutputHelper output)
{
    private static async Task<Replica> StartAsync(string name, Dictionary<string, string?> settings)
    {
        var postgres = await PostgresServer.StartedAsync();
        return await Replica.StartAsync(await postgres.CreateDatabaseAsync(name), settings);
    }

    [Fact]
    public async Task A_WebSocket_client_that_does_not_read_is_cut_off_with_1008_while_others_are_served()
    {
        await using var replica = await StartAsync("wsslow", new() { ["Chat:OutboundQueueBytes"] = "16384" });
        var alice = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(replica.HttpPort, receiveBuffer: 4096), TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("bob"));
        await using var carol = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(replica.HttpPort), TestClient.Unique("carol"));
        await using var dave = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("dave"));
        var hub = replica.Services.GetRequiredService<ChatHub>();

        // Bob floods Alice, who reads nothing, until the server gives up on her; Carol (WebSocket) and Dave chat meanwhile.
        var text = new string('f', 1000);
        var sent = 0;
        var round = 0;
        while (hub.Find(alice.Id) is not null)
        {
            Assert.True(sent < 50_000, "the server never cut off the WebSocket client that does not read");
            for (var i = 0; i < 200; i++)
            {
                await bob.SendAsync(new { msgid = 6, toid = alice.Id, msg = text });
            }

            sent += 200;
            await bob.AssertNothingPendingAsync();
            await carol.SendAsync(new { msgid = 6, toid = dave.Id, msg = $"still flowing {round}" });
            Assert.Equal($"still flowing {round}", (string)(await dave.ReceiveAsync(6))["msg"]!);
            round++;
        }

        // Alice reads what reached her, then the close that says why.
        var seen = 0;
        while (await alice.ReceiveOrCloseAsync() is not null)
        {
            seen++;
        }

        output.WriteLine($"bob sent {sent} messages of 1000 characters; alice read {seen} before the close ({alice.WebSocket!.CloseStatus})");
        Assert.True(seen < sent, $"alice was sent {sent} and read {seen}: she should have been cut off");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, alice.WebSocket.CloseStatus);
        await alice.DisposeAsync();
        await carol.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Shutting_down_drains_WebSockets_they_get_1001_and_their_users_are_logged_out()
    {
        var replica = await StartAsync("wsdrain", []);
        await using var web = await TestClient.RegisterAndLogInAsync(await TestClient.ConnectWebSocketAsync(replica.HttpPort), TestClient.Unique("web"));
        await using var tcp = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("tcp"));
        var hub = replica.Services.GetRequiredService<ChatHub>();

        var stopping = replica.DisposeAsync().AsTask();
        var end = await web.ReceiveOrCloseAsync();
        await stopping;

        Assert.Null(end);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, web.WebSocket!.CloseStatus);
        Assert.Null(await tcp.ReceiveOrCloseAsync());
        Assert.Null(hub.Find(web.Id));
    }

    [Fact]
    public async Task The_replica_pings_each_WebSocket_and_drops_one_that_never_answers_while_one_that_does_stays()
    {
        await using var replica = await StartAsync("wsalive", new() { ["Chat:WebSocketKeepAlive"] = "00:00:01" });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var silent = await RawWebSocket.ConnectAsync(replica.HttpPort);
        // ClientWebSocket answers pings by itself while a receive is pending, as a browser does: one always is here.
        await using var answering = await TestClient.ConnectWebSocketAsync(replica.HttpPort);
        var reply = answering.ReceiveOrCloseAsync(TimeSpan.FromMinutes(1));

        var frames = new List<byte>();
        while (await silent.ReceiveAsync() is { } frame && frame.Opcode != RawWebSocket.Close)
        {
            frames.Add(frame.Opcode);
        }

        output.WriteLine($"dropped after {clock.ElapsedMilliseconds} ms: {string.Join(",", frames)}");
        Assert.Contains(RawWebSocket.Ping, frames);
        await answering.SendAsync(new { msgid = 13, cid = "still here" });
        Assert.Equal("still here", (string?)(await reply)?["cid"]);
    }

    [Fact]
    public async Task Behind_nginx_the_per_address_limits_see_each_client_through_X_Forwarded_For_from_a_trusted_proxy()
    {
        // One registration per address; nginx connects from 127.0.0.1, which is trusted.
        await using var replica = await StartAsync("wsxff", new()
        {
            ["Chat:TrustedProxies:0"] = "127.0.0.1",
            ["Chat:RegistrationsPerAddress"] = "1",
            ["Chat:RegistrationRefill"] = "1.00:00:00",
            ["Chat:ThrottledReplyDelay"] = "00:00:00",
        });
        await using var nginx = await NginxServer.StartNewAsync([replica.ChatPort], httpUpstreamPorts: [replica.HttpPort]);
        var two = IPAddress.Parse("127.0.0.2");

        var first = await RegisterAsync(await TestClient.ConnectWebSocketAsync(nginx.HttpPort, from: two));
        var again = await RegisterAsync(await TestClient.ConnectWebSocketAsync(nginx.HttpPort, from: two));
        var other = await RegisterAsync(await TestClient.ConnectWebSocketAsync(nginx.HttpPort, from: IPAddress.Parse("127.0.0.3")));

        Assert.Equal((0, 11, 0), (first, again, other));
    }

    private static async Task<int> RegisterAsync(TestClient client)
    {
        await using (client)
        {
            var ack = await client.RequestAsync(new { msgid = 4, name = TestClient.Unique("reg"), password = "pw" });
            return (int)ack["errno"]!;
        }
    }
}
