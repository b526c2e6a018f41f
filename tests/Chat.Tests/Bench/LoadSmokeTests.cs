using System.Net;
using Chat.Bench;
using Chat.Tests.Integration;

namespace Chat.Tests.Bench;

/// <summary>The load workloads against a real replica for a second or two: messages flow and none is lost.</summary>
public sealed class LoadSmokeTests(ReplicaFixture fixture) : IClassFixture<ReplicaFixture>
{
    private LoadOptions Options => new()
    {
        Endpoints = [new IPEndPoint(IPAddress.Loopback, fixture.Replica.ChatPort)],
        Warmup = TimeSpan.FromSeconds(0.5),
        Duration = TimeSpan.FromSeconds(1.5),
        Drain = TimeSpan.FromSeconds(10),
        Progress = false,
    };

    [Fact]
    public async Task Pingpong_delivers_and_loses_nothing()
    {
        var result = await PingPongWorkload.RunAsync(Options, pairs: 2, sameEndpoint: false);

        AssertClean(result, connections: 4);
        Assert.Equal(result.Sent, result.Delivered);
    }

    [Fact]
    public async Task Pingpong_over_WebSocket_delivers_and_loses_nothing()
    {
        var options = Options with { Endpoints = [new IPEndPoint(IPAddress.Loopback, fixture.Replica.HttpPort)], WebSocket = true };

        var result = await PingPongWorkload.RunAsync(options, pairs: 2, sameEndpoint: false);

        AssertClean(result, connections: 4);
        Assert.Equal(result.Sent, result.Delivered);
    }

    [Fact]
    public async Task Seed_pingpong_speaks_the_seed_protocol_loses_nothing_and_measures_the_replica_cpu()
    {
        var result = await SeedPingPongWorkload.RunAsync(Options, pairs: 2, sameEndpoint: true);

        AssertClean(result, connections: 4);
        Assert.Equal(result.Sent, result.Delivered);
        var replica = Assert.Single(result.Cpu); // found by the port it listens on
        Assert.Equal(fixture.Replica.ChatPort, replica.Process.Port);
        Assert.True(replica.MicrosPerMessage > 0, "the replica used no CPU for its messages");
    }

    [Fact]
    public async Task Group_delivers_to_every_other_member_and_loses_nothing()
    {
        var result = await GroupWorkload.RunAsync(Options, groups: 2, members: 4, senders: 2);

        AssertClean(result, connections: 8);
        Assert.Equal(3 * result.Sent, result.Delivered);
    }

    [Fact]
    public async Task Rate_sends_on_schedule_and_loses_nothing()
    {
        var result = await RateWorkload.RunAsync(Options, pairs: 2, rate: 200);

        AssertClean(result, connections: 4);
        Assert.InRange(result.Sent, 200, 600);
    }

    private static void AssertClean(LoadResult result, int connections)
    {
        Assert.Equal(connections, result.Connections);
        Assert.True(result.Delivered > 0, "nothing was delivered");
        Assert.True(result.DeliveredPerSecond > 0);
        Assert.True(result.Latency.Count > 0);
        Assert.Equal(result.Sent, result.Acked);
        Assert.Equal((0L, 0L, 0L, 0L, 0L, 0L), (result.Lost, result.TimedOut, result.Rejected, result.Duplicates, result.Unknown, result.Errors));
        Assert.Equal(0, result.Disconnected);
    }
}
