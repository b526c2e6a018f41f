using Chat.Server.Telemetry;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;

namespace Chat.Tests.Telemetry;

/// <summary>
/// OTLP export happens only when an endpoint is configured (the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or
/// <c>Chat:Telemetry:OtlpEndpoint</c>); then metrics, traces and logs reach the collector; a collector that is away
/// does not stop the replica.
/// </summary>
public sealed class TelemetryExportTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public void Without_an_endpoint_nothing_is_exported()
    {
        Assert.False(fixture.Replica.Services.GetRequiredService<TelemetryExport>().Exporting);
        Assert.Null(fixture.Replica.Services.GetService<TracerProvider>());
        Assert.Null(fixture.Replica.Services.GetService<LoggerProvider>());
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL")]
    [InlineData("Chat:Telemetry:OtlpEndpoint", "Chat:Telemetry:OtlpProtocol")]
    public async Task With_an_endpoint_metrics_traces_and_logs_reach_the_collector(string endpointKey, string protocolKey)
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var redis = await RedisServer.StartNewAsync(); // with Redis, so its instrumentation is part of the tracer
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            [endpointKey] = collector.Endpoint.ToString(),
            [protocolKey] = "http/protobuf",
            ["Chat:Telemetry:MetricExportInterval"] = "00:00:01",
        };
        await using var replica = await Replica.StartAsync(fixture.Database, settings);

        Assert.True(replica.Services.GetRequiredService<TelemetryExport>().Exporting);
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await alice.SendAsync(new { msgid = 6, toid = alice.Id, msg = "to myself", cid = "1" });
        Assert.Equal(0, (int)(await alice.ReceiveAsync(11))["errno"]!);

        await Wait.UntilAsync(
            () => Task.FromResult(collector.Received("/v1/metrics") && collector.Received("/v1/traces") && collector.Received("/v1/logs")),
            Deadline,
            $"metrics, traces and logs at the collector (so far: {string.Join(", ", collector.Paths)})");
    }

    [Fact]
    public async Task With_an_endpoint_the_replica_still_serves_when_the_collector_is_away()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Chat:Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["Chat:Telemetry:OtlpProtocol"] = "http/protobuf",
        };
        await using var replica = await Replica.StartAsync(fixture.Database, settings);

        Assert.True(replica.Services.GetRequiredService<TelemetryExport>().Exporting);
        await using var alice = await TestClient.LoggedInAsync(replica.ChatPort, TestClient.Unique("alice"));
        await alice.SendAsync(new { msgid = 6, toid = alice.Id, msg = "to myself", cid = "1" });
        Assert.Equal(0, (int)(await alice.ReceiveAsync(11))["errno"]!);
    }
}
