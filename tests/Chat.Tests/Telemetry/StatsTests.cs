using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chat.Server;
using Chat.Server.Hosting;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Telemetry;

/// <summary><c>GET /stats</c> on a replica of this class's own, after traffic: the figures are the traffic's.</summary>
public sealed class StatsTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    [Fact]
    public async Task Stats_show_connections_users_and_the_message_rate()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = new Uri($"http://127.0.0.1:{fixture.Replica.HttpPort}/stats");
        await using var alice = await TestClient.LoggedInAsync(fixture.Replica.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(fixture.Replica.ChatPort, TestClient.Unique("bob"));
        await using var anonymous = await TestClient.ConnectAsync(fixture.Replica.ChatPort);
        await anonymous.AssertNothingPendingAsync();
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "m" + i, cid = "c" + i });
            await alice.ReceiveAsync(11);
        }

        var stats = (await http.GetFromJsonAsync<JsonObject>(url))!;

        Assert.Equal(fixture.Replica.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value.ReplicaId, (string)stats["replica"]!);
        Assert.Equal(3, (long)stats["connections"]!);
        Assert.Equal(2, (int)stats["usersOnline"]!);
        Assert.InRange((double)stats["messagesPerSecond"]!, 0.1, 0.5);
        Assert.Equal(10, (int)stats["windowSeconds"]!);
        Assert.Equal(0, (int)stats["writerQueue"]!);
        Assert.Equal("not configured", (string)stats["redis"]!["state"]!);

        await bob.DisposeAsync();
        await anonymous.DisposeAsync();
        await Wait.UntilAsync(
            async () => (await http.GetFromJsonAsync<JsonObject>(url))!["connections"]!.GetValue<long>() == 1,
            TimeSpan.FromSeconds(15),
            "/stats to count the closed connections");
    }
}
