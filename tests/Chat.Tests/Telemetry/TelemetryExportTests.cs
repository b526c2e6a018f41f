using Chat.Server.Telemetry;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Telemetry;

/// <summary>OTLP providers exist only when an endpoint is configured; a collector that is away does not stop the replica.</summary>
public sealed class TelemetryExportTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    [Fact]
    public void Without_an_endpoint_nothing_is_exported() =>
        Assert.False(fixture.Replica.Services.GetRequiredService<TelemetryExport>().Exporting);

    [Fact]
    public async Task With_an_endpoint_the_replica_exports_and_still_serves_when_the_collector_is_away()
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
