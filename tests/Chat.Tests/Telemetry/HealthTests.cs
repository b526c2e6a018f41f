using System.Net;
using System.Text.Json.Nodes;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Telemetry;

/// <summary>
/// <c>/healthz</c> and <c>/readyz</c> of a replica on a Redis of this test's own: ready while the database and Redis
/// answer, 503 naming Redis while it is down (yet alive all along), ready again once it is back.
/// </summary>
public sealed class HealthTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Readyz_follows_redis_while_healthz_stays_ok()
    {
        var postgres = await PostgresServer.StartedAsync();
        await using var redis = await RedisServer.StartNewAsync();
        await using var replica = await Replica.StartAsync(
            await postgres.CreateDatabaseAsync("health"),
            new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = redis.ConnectionString });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var ready = await ProbeAsync(http, replica, "/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Equal("application/json", ready.ContentType);
        var body = JsonNode.Parse(ready.Body)!;
        Assert.True((bool)body["ready"]!);
        Assert.Equal(("ok", "ok"), ((string)body["checks"]!["postgres"]!, (string)body["checks"]!["redis"]!));
        Assert.Equal((HttpStatusCode.OK, "ok"), Short(await ProbeAsync(http, replica, "/healthz")));

        await redis.StopAsync();
        await Wait.UntilAsync(
            async () => (await ProbeAsync(http, replica, "/readyz")).Status == HttpStatusCode.ServiceUnavailable,
            Deadline,
            "/readyz to answer 503 without Redis");
        body = JsonNode.Parse((await ProbeAsync(http, replica, "/readyz")).Body)!;
        Assert.False((bool)body["ready"]!);
        Assert.Equal("ok", (string)body["checks"]!["postgres"]!);
        Assert.NotEqual("ok", (string)body["checks"]!["redis"]!);
        Assert.Equal((HttpStatusCode.OK, "ok"), Short(await ProbeAsync(http, replica, "/healthz")));

        await redis.StartAsync();
        await Wait.UntilAsync(
            async () => (await ProbeAsync(http, replica, "/readyz")).Status == HttpStatusCode.OK,
            Deadline,
            "/readyz to answer 200 once Redis is back");
    }

    private static (HttpStatusCode, string) Short(Probe probe) => (probe.Status, probe.Body);

    private static async Task<Probe> ProbeAsync(HttpClient http, Replica replica, string path)
    {
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{replica.HttpPort}{path}"));
        return new Probe(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    private sealed record Probe(HttpStatusCode Status, string? ContentType, string Body);
}
