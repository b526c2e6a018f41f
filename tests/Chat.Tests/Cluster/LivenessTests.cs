using System.Text.Json.Nodes;
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

        // What alice's LOGIN_ACK says about bob, logging in again on the same connection. Bob's going offline may also
        // reach her as a PRESENCE push at any time, even between a request and its answer: passed over.
        async Task<JsonObject> AnswerAsync(Request request)
        {
            await alice.SendAsync(request);
            return await alice.ReceiveUntilAsync(f => (int)f["msgid"]! != (int)MsgId.Presence);
        }

        async Task<string> BobsStateAsync()
        {
            await AnswerAsync(new LogoutRequest { Cid = Cid.From("out") });
            var ack = await AnswerAsync(new LoginRequest(alice.Id, "pw-" + aliceName, 2, null));
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

    [Fact]
    public async Task A_replica_paused_past_its_liveness_closes_its_stale_session_on_resume_and_nothing_sent_is_lost()
    {
        // Reject mode (the default): while the paused replica's liveness key is gone, bob may log in on the other one.
        // Resumed, the paused replica must not serve its now stale session of bob: it closes it at once, before it reads
        // the frame bob sent meanwhile; resent on the new session with its cid, that message is stored once.
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("liveness_pause");
        await using var redis = await RedisServer.StartNewAsync();
        await using var paused = await ReplicaProcess.StartAsync(database, redis.ConnectionString, LongPresence);
        await using var other = await ReplicaProcess.StartAsync(database, redis.ConnectionString, LongPresence);

        var bobName = TestClient.Unique("bob");
        await using var stale = await TestClient.LoggedInAsync(paused.ChatPort, bobName, v: 2);
        var aliceName = TestClient.Unique("alice");
        await using var alice = await TestClient.LoggedInAsync(other.ChatPort, aliceName, v: 2);
        Assert.Equal(0, (int)(await alice.RequestAsync(new AddFriendRequest(stale.Id) { Cid = Cid.From("f") }))["errno"]!);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(0, (int)(await stale.RequestAsync(new { msgid = 6, toid = alice.Id, msg = $"m{i}", cid = $"m{i}" }))["errno"]!);
        }

        await paused.PauseAsync();
        await stale.SendAsync(new { msgid = 6, toid = alice.Id, msg = "m4", cid = "m4" }); // waits in the paused replica's socket

        // Once the paused replica's liveness key has run out, bob logs in on the other replica.
        TestClient? fresh = null;
        await Wait.UntilAsync(async () =>
        {
            var attempt = await TestClient.ConnectAsync(other.ChatPort);
            if ((int)(await attempt.LoginAsync(stale.Id, "pw-" + bobName, v: 2))["errno"]! == 0)
            {
                fresh = attempt;
                return true;
            }

            await attempt.DisposeAsync();
            return false;
        }, TimeSpan.FromSeconds(15), "bob logs in on the other replica once the paused one's liveness ran out");
        await using var bob = fresh!;

        await paused.ResumeAsync();
        var resumed = Stopwatch.StartNew();
        var frames = new List<JsonObject>();
        while (await stale.ReceiveOrCloseAsync(TimeSpan.FromSeconds(10)) is { } frame)
        {
            frames.Add(frame);
        }

        Assert.True(resumed.Elapsed < TimeSpan.FromSeconds(2), $"the stale session was closed {resumed.Elapsed} after the resume");
        Assert.DoesNotContain(frames, f => (int?)f["msgid"] == 11); // m4 was not served by the stale session

        // The client sends what was not acknowledged again, with its cid, on its new session: stored once.
        Assert.Equal(0, (int)(await bob.RequestAsync(new { msgid = 6, toid = alice.Id, msg = "m4", cid = "m4" }))["errno"]!);
        var received = new List<string>();
        while (received.Count < 4)
        {
            var frame = await alice.ReceiveAsync(); // presence pushes about bob come in between
            if ((int)frame["msgid"]! == 6)
            {
                received.Add((string)frame["msg"]!);
            }
        }

        Assert.Equal(["m1", "m2", "m3", "m4"], received);
        Assert.Equal(4, await database.ScalarAsync("SELECT COUNT(*) FROM messages WHERE sender_id = @p0", stale.Id));

        // bob is live on the other replica: closing the stale session told nobody he went offline.
        await alice.RequestAsync(new LogoutRequest { Cid = Cid.From("out") });
        var ack = await alice.LoginAsync(alice.Id, "pw-" + aliceName, v: 2);
        Assert.Equal("online", (string)ack["friends"]![0]!["state"]!);
    }
}
