using System.Diagnostics;
using System.Text.Json.Nodes;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using StackExchange.Redis;

namespace Chat.Tests.Cluster;

/// <summary>Replicas die and Redis restarts; every accepted message still reaches its recipient.</summary>
public sealed class FaultTests
{
    private static readonly TimeSpan PresenceTtl = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task A_killed_replicas_user_logs_in_through_nginx_within_the_ttl_and_gets_every_message()
    {
        var mariadb = await MariaDbServer.StartedAsync();
        var database = await mariadb.CreateDatabaseAsync("kill");
        await using var redis = await RedisServer.StartNewAsync();
        var settings = new Dictionary<string, string> { ["Chat:PresenceTtl"] = "00:00:03" };
        await using var doomed = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var survivor = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var nginx = await NginxServer.StartNewAsync([doomed.ChatPort, survivor.ChatPort]);

        var bobName = TestClient.Unique("bob");
        var bob = await TestClient.LoggedInAsync(doomed.ChatPort, bobName);
        await using var alice = await TestClient.LoggedInAsync(survivor.ChatPort, TestClient.Unique("alice"));
        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "before", cid = "0" });
        var before = await bob.ReceiveAsync(6);
        Assert.Equal("before", (string)before["msg"]!);
        await alice.ReceiveAsync(11);

        doomed.KillHard();
        var killedAt = Stopwatch.StartNew();
        Assert.Null(await bob.ReceiveOrCloseAsync());
        await bob.DisposeAsync();

        const int sent = 20;
        for (var i = 1; i <= sent; i++)
        {
            var ack = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = $"meanwhile {i}", cid = $"{i}" });
            Assert.Equal(0, (int)ack["errno"]!);
        }

        // Bob reconnects through nginx; until the dead replica's claim runs out, the login says "online".
        JsonObject? login = null;
        await Wait.UntilAsync(async () =>
        {
            await using var attempt = await TestClient.ConnectAsync(nginx.Port);
            login = await attempt.LoginAsync(bob.Id, "pw-" + bobName);
            return (int)login["errno"]! == 0;
        }, PresenceTtl * 3, "bob can log in again after his replica died");
        Assert.True(killedAt.Elapsed < PresenceTtl * 3, $"took {killedAt.Elapsed}");

        // At-least-once: "before" may come again (its cursor may have died with the replica) with the seq bob
        // already has; a client drops it by seq. Everything else must be there, in order.
        var offline = login!["offlinemsg"]!.AsArray().Select(m => JsonNode.Parse((string)m!)!).ToList();
        var fresh = offline.Where(m => (long)m["seq"]! > (long)before["seq"]!).Select(m => (string)m["msg"]!);
        Assert.Equal(Enumerable.Range(1, sent).Select(i => $"meanwhile {i}"), fresh);
    }

    [Fact]
    public async Task After_redis_restarts_live_delivery_resumes_and_nothing_sent_meanwhile_is_lost()
    {
        var mariadb = await MariaDbServer.StartedAsync();
        var database = await mariadb.CreateDatabaseAsync("redis");
        await using var redis = await RedisServer.StartNewAsync();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = redis.ConnectionString, ["Chat:PresenceTtl"] = "00:00:03" };
        await using var a = await Replica.StartAsync(database, settings);
        await using var b = await Replica.StartAsync(database, settings);
        var aliceName = TestClient.Unique("alice");
        var alice = await TestClient.LoggedInAsync(a.ChatPort, aliceName);
        var bobName = TestClient.Unique("bob");
        var bob = await TestClient.LoggedInAsync(b.ChatPort, bobName);
        try
        {
            await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "before" });
            Assert.Equal("before", (string)(await bob.ReceiveAsync(6))["msg"]!);

            await redis.StopAsync();
            var during = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "during", cid = "d" });
            Assert.Equal(0, (int)during["errno"]!); // stored: the database is up
            await redis.StartAsync();

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Wait.UntilAsync(async () =>
                (await http.GetAsync(new Uri($"http://127.0.0.1:{a.HttpPort}/readyz"))).IsSuccessStatusCode &&
                (await http.GetAsync(new Uri($"http://127.0.0.1:{b.HttpPort}/readyz"))).IsSuccessStatusCode,
                TimeSpan.FromSeconds(30), "both replicas ready again after Redis restarted");
            await RenewedTwiceAsync(redis);

            // An outage longer than the liveness TTL (3 s) closes the replicas' sessions (one user, one replica):
            // their clients log in again, and "during" then waits for bob in offlinemsg.
            var (aliceAgain, _) = await StillOrAgainAsync(alice, a.ChatPort, aliceName);
            alice = aliceAgain;
            var (bobAgain, offlineAtRelogin) = await StillOrAgainAsync(bob, b.ChatPort, bobName);
            bob = bobAgain;
            if (offlineAtRelogin is not null)
            {
                Assert.Contains("during", offlineAtRelogin);
                await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "after" });
                Assert.Equal("after", (string)(await bob.ReceiveAsync(6))["msg"]!);
                return;
            }

            await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "after" });
            var live = await bob.ReceiveAsync(6);
            Assert.True((string)live["msg"]! is "during" or "after", live.ToJsonString());
            if ((string)live["msg"]! == "during")
            {
                Assert.Equal("after", (string)(await bob.ReceiveAsync(6))["msg"]!);
                return;
            }

            // "during" found no subscriber: it waits beyond bob's cursor and comes at his next login.
            await bob.SendAsync(new { msgid = 3 });
            var login = await bob.LoginAsync(bob.Id, "pw-" + bobName);
            var offline = login["offlinemsg"]!.AsArray().Select(m => (string)JsonNode.Parse((string)m!)!["msg"]!).ToList();
            Assert.Contains("during", offline);
        }
        finally
        {
            await alice.DisposeAsync();
            await bob.DisposeAsync();
        }
    }

    /// <summary>
    /// Waits until both replicas renewed their liveness twice more. The first renewal after an outage longer than the
    /// liveness TTL closes a replica's sessions as it completes, which may be after its readyz is green again (a session
    /// still answered a PING, and was closed right after): the second one is sent only once the first is done, so from
    /// then on each session is settled, closed or open for good. A renewal moves the replica's score in chat:replicas
    /// (when its liveness runs out) forward.
    /// </summary>
    private static async Task RenewedTwiceAsync(RedisServer redis)
    {
        await using var watcher = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = watcher.GetDatabase();
        async Task<Dictionary<string, double>> ScoresAsync() =>
            (await db.SortedSetRangeByRankWithScoresAsync("chat:replicas")).ToDictionary(e => (string)e.Element!, e => e.Score);
        var seen = new Dictionary<string, double>();
        await Wait.UntilAsync(async () => (seen = await ScoresAsync()).Count == 2, TimeSpan.FromSeconds(30), "both replicas alive in Redis");
        for (var renewal = 1; renewal <= 2; renewal++)
        {
            var before = seen;
            await Wait.UntilAsync(
                async () => (seen = await ScoresAsync()).Count(r => r.Value > before.GetValueOrDefault(r.Key, double.MaxValue)) == 2,
                TimeSpan.FromSeconds(30),
                $"both replicas' liveness renewed ({renewal} of 2)");
        }
    }

    /// <summary>
    /// The client if its session is still open (a PING is answered); else a new connection logged in as the same user,
    /// with the texts of the offline messages its login brought.
    /// </summary>
    private static async Task<(TestClient Client, List<string>? Offline)> StillOrAgainAsync(TestClient client, int port, string name)
    {
        try
        {
            await client.SendAsync(new { msgid = 13 });
            if (await client.ReceiveOrCloseAsync() is { } frame && (int)frame["msgid"]! == 14)
            {
                return (client, null);
            }
        }
        catch (IOException)
        {
            // closed while writing
        }

        var id = client.Id;
        await client.DisposeAsync();
        List<string>? offline = null;
        TestClient? again = null;
        await Wait.UntilAsync(async () =>
        {
            var attempt = await TestClient.ConnectAsync(port);
            var login = await attempt.LoginAsync(id, "pw-" + name);
            if ((int)login["errno"]! != 0)
            {
                await attempt.DisposeAsync();
                return false;
            }

            offline = (login["offlinemsg"]?.AsArray() ?? []).Select(m => (string)JsonNode.Parse((string)m!)!["msg"]!).ToList();
            again = attempt;
            return true;
        }, TimeSpan.FromSeconds(30), $"user {id} logged in again after the outage closed the session");
        return (again!, offline);
    }
}
