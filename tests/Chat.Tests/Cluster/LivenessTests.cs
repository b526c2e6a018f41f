using System.Diagnostics;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>
/// Replica liveness: a claim is only as good as its replica's liveness key (3 s TTL). The presence TTL here is five
/// minutes, so whatever frees a user sooner is the liveness key going away.
/// </summary>
public sealed class LivenessTests
{
    private static readonly Dictionary<string, string> LongPresence = new() { ["Chat:PresenceTtl"] = "00:05:00" };

    [Fact]
    public async Task A_SIGKILLed_replicas_users_log_in_elsewhere_within_seconds_while_a_live_replicas_users_stay_claimed()
    {
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("liveness_kill");
        await using var redis = await RedisServer.StartNewAsync();
        await using var doomed = await ReplicaProcess.StartAsync(database, redis.ConnectionString, LongPresence);
        await using var survivor = await ReplicaProcess.StartAsync(database, redis.ConnectionString, LongPresence);

        var bobName = TestClient.Unique("bob");
        await using var bob = await TestClient.LoggedInAsync(doomed.ChatPort, bobName);
        var carolName = TestClient.Unique("carol");
        await using var carol = await TestClient.LoggedInAsync(survivor.ChatPort, carolName);
        await using var alice = await TestClient.LoggedInAsync(survivor.ChatPort, TestClient.Unique("alice"));
        Assert.Equal(0, (int)(await alice.RequestAsync(new AddFriendRequest(bob.Id) { Cid = Cid.From("f") }))["errno"]!);

        // Well past a liveness TTL, a live replica's claim still holds: bob is online, a second login is refused.
        await using (var early = await TestClient.ConnectAsync(survivor.ChatPort))
        {
            await Task.Delay(TimeSpan.FromSeconds(4)); // longer than the liveness TTL, which the refresh must outlive
            Assert.Equal(2, (int)(await early.LoginAsync(bob.Id, "pw-" + bobName))["errno"]!);
        }

        doomed.KillHard();
        var killedAt = Stopwatch.StartNew();
        Assert.Null(await bob.ReceiveOrCloseAsync());

        await Wait.UntilAsync(async () =>
        {
            await using var attempt = await TestClient.ConnectAsync(survivor.ChatPort);
            return (int)(await attempt.LoginAsync(bob.Id, "pw-" + bobName))["errno"]! == 0;
        }, TimeSpan.FromSeconds(10), "bob can log in on the survivor");
        Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(6), $"bob was locked out for {killedAt.Elapsed} with a 3 s liveness TTL");

        // The survivor's own user was never freed: carol's claim is alive.
        await using var twin = await TestClient.ConnectAsync(survivor.ChatPort);
        Assert.Equal(2, (int)(await twin.LoginAsync(carol.Id, "pw-" + carolName))["errno"]!);
    }

    [Fact]
    public async Task A_dead_replicas_user_shows_offline_to_friends_before_the_presence_ttl()
    {
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("liveness_friends");
        await using var redis = await RedisServer.StartNewAsync();
        await using var doomed = await ReplicaProcess.StartAsync(database, redis.ConnectionString, LongPresence);
        await using var survivor = await ReplicaProcess.StartAsync(database, redis.ConnectionString, LongPresence);
        await using var bob = await TestClient.LoggedInAsync(doomed.ChatPort, TestClient.Unique("bob"));
        var aliceName = TestClient.Unique("alice");
        await using var alice = await TestClient.LoggedInAsync(survivor.ChatPort, aliceName);
        await alice.RequestAsync(new AddFriendRequest(bob.Id) { Cid = Cid.From("f") });

        // What alice's LOGIN_ACK says about bob, logging in again on the same connection.
        async Task<string> BobsStateAsync()
        {
            await alice.RequestAsync(new LogoutRequest { Cid = Cid.From("out") });
            var ack = await alice.LoginAsync(alice.Id, "pw-" + aliceName, v: 2);
            Assert.Equal(0, (int)ack["errno"]!);
            return (string)ack["friends"]![0]!["state"]!;
        }

        Assert.Equal("online", await BobsStateAsync());
        doomed.KillHard();
        var killedAt = Stopwatch.StartNew();
        Assert.Null(await bob.ReceiveOrCloseAsync());
        await Wait.UntilAsync(async () => await BobsStateAsync() == "offline", TimeSpan.FromSeconds(10), "bob shown offline once his replica's liveness key is gone");
        Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(6), $"bob shown online for {killedAt.Elapsed} after his replica died");
    }
}
