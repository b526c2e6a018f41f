using System.Diagnostics;
using System.Globalization;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Cluster;

/// <summary>
/// Faults of the test run's Redis Cluster under load (<see cref="LoadRig"/>: pairs chatting with cids from replica A to
/// replica B, so every message crosses the bus, every message counted). Alone, since they take down nodes that other tests share; each leaves the cluster
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
        await using var rig = await LoadRig.StartAsync(await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("cluster_failover"), redis.ConnectionString, acrossReplicas: true);
        var load = rig.Load;
        var channel = CrossReplicaChannel(rig);
        var master = await redis.MasterOfAsync(channel);
        Assert.Contains(channel, await redis.CliAsync(master, "PUBSUB", "SHARDCHANNELS", rig.RedisPrefix + "user:*")); // sharded, on its slot's master

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
    public async Task Moving_the_slot_of_a_busy_channel_to_another_master_keeps_live_delivery_without_a_restart()
    {
        var redis = await RedisClusterServer.StartedAsync();
        await using var rig = await LoadRig.StartAsync(await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("cluster_reshard"), redis.ConnectionString, acrossReplicas: true);
        var load = rig.Load;
        var channel = CrossReplicaChannel(rig);
        var from = await redis.MasterOfAsync(channel);
        var to = (await redis.MastersAsync()).First(m => m != from);

        try
        {
            await redis.MoveSlotAsync(channel, to);
            var moved = Stopwatch.StartNew();
            await load.WaitForEveryPairLiveAsync(10, LoadRig.Deadline, "after the slot of " + channel + " moved");
            moved.Stop();
            Assert.Equal(to, await redis.MasterOfAsync(channel));
            Assert.Contains(channel, await redis.CliAsync(to, "PUBSUB", "SHARDCHANNELS", rig.RedisPrefix + "user:*")); // resubscribed where the slot went
            var counts = await load.StopAsync(Settle);

            counts.Report(nameof(Moving_the_slot_of_a_busy_channel_to_another_master_keeps_live_delivery_without_a_restart), moved.Elapsed);
            Assert.True(moved.Elapsed <= MaxRecovery, $"live delivery came back after {moved.Elapsed}");
            Assert.Equal(0, counts.Lost);
        }
        finally
        {
            await redis.WaitHealthyAsync(LoadRig.Deadline);
        }
    }

    [Fact]
    public async Task With_every_master_down_sends_are_still_stored_readyz_is_red_and_everything_comes_back_by_itself()
    {
        var redis = await RedisClusterServer.StartedAsync();
        await using var rig = await LoadRig.StartAsync(await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("cluster_down"), redis.ConnectionString, acrossReplicas: true);
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

    /// <summary>A recipient's channel: every message on it crosses the bus (senders on A, recipients on B).</summary>
    private static string CrossReplicaChannel(LoadRig rig) => rig.RedisPrefix + "user:" + rig.Load.Users[0].Recipient.ToString(CultureInfo.InvariantCulture);

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
