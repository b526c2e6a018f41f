using System.Diagnostics;
using System.Globalization;
using Chat.Server.Hub;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Cluster;

/// <summary>
/// Faults of the test run's Redis Cluster under load (<see cref="LoadRig"/>: two replicas behind nginx, pairs chatting
/// with cids, every message counted). Alone, since they take down nodes that other tests share; each leaves the cluster
/// whole again. No replica restarts: the replicas are the same in-process ones throughout. What was published while a
/// channel had no master found no subscriber; it waits in the store, and its recipient fetches it by resume (the load's
/// reconciling reconnects). The counts and the recovery time go to CHAT_TEST_REPORT.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class RedisClusterFaultTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxRecovery = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Killing_the_master_of_a_busy_channel_fails_over_loses_nothing_and_live_delivery_comes_back_by_itself()
    {
        var redis = await RedisClusterServer.StartedAsync();
        await using var rig = await LoadRig.StartAsync(await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("cluster_failover"), redis.ConnectionString);
        var load = rig.Load;
        // A channel that crosses replicas: its recipient is on one, the sender on the other.
        var onA = rig.A.Services.GetRequiredService<ChatHub>();
        var (_, recipient) = load.Users.FirstOrDefault(u => (onA.Find(u.Sender) is null) != (onA.Find(u.Recipient) is null));
        Assert.True(recipient != 0, "no pair has its users on different replicas");
        var channel = "chat:user:" + recipient.ToString(CultureInfo.InvariantCulture);
        var master = await redis.MasterOfAsync(channel);
        Assert.Contains(channel, await redis.CliAsync(master, "PUBSUB", "SHARDCHANNELS", "chat:user:*")); // sharded, on its slot's master

        await redis.KillAsync(master);
        var recovery = Stopwatch.StartNew();
        try
        {
            await load.WaitForEveryPairLiveAsync(10, LoadRig.Deadline, "after the master of " + channel + " was killed");
            recovery.Stop();
            Assert.NotEqual(master, await redis.MasterOfAsync(channel));
            var counts = await load.StopAsync(Settle);

            counts.Report(nameof(Killing_the_master_of_a_busy_channel_fails_over_loses_nothing_and_live_delivery_comes_back_by_itself), recovery.Elapsed);
            Assert.True(recovery.Elapsed <= MaxRecovery, $"live delivery came back after {recovery.Elapsed}");
            Assert.Equal(0, counts.Lost);
        }
        finally
        {
            await RestoreAsync(redis, [master]);
        }
    }

    [Fact]
    public async Task With_every_master_down_sends_are_still_stored_readyz_is_red_and_everything_comes_back_by_itself()
    {
        var redis = await RedisClusterServer.StartedAsync();
        await using var rig = await LoadRig.StartAsync(await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("cluster_down"), redis.ConnectionString);
        var load = rig.Load;
        var masters = await redis.MastersAsync();

        try
        {
            await Task.WhenAll(masters.Select(redis.KillAsync));
            await rig.WaitReadyAsync(false, "/readyz red with no master");
            // The database is up: messages are still taken, and wait in the store for their recipients.
            await load.WaitForAcceptedAsync(load.Accepted + 100, LoadRig.Deadline);

            await Task.WhenAll(masters.Select(redis.StartAsync));
            var recovery = Stopwatch.StartNew();
            await rig.WaitReadyAsync(true, "/readyz green once the masters are back");
            await load.WaitForEveryPairLiveAsync(10, LoadRig.Deadline, "after the masters came back");
            recovery.Stop();
            var counts = await load.StopAsync(Settle);

            counts.Report(nameof(With_every_master_down_sends_are_still_stored_readyz_is_red_and_everything_comes_back_by_itself), recovery.Elapsed);
            Assert.Equal(0, counts.Refused);
            Assert.Equal(0, counts.Lost);
        }
        finally
        {
            await RestoreAsync(redis, masters);
        }
    }

    /// <summary>Starts the killed nodes again and waits for a whole cluster, for the tests that come after.</summary>
    private static async Task RestoreAsync(RedisClusterServer redis, IEnumerable<int> nodes)
    {
        foreach (var node in nodes.Where(n => !redis.IsRunning(n)))
        {
            await redis.StartAsync(node);
        }

        await redis.WaitHealthyAsync(LoadRig.Deadline);
    }
}
