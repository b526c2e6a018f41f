using System.Diagnostics;
using System.Text.Json.Nodes;
using Chat.Server.Hub;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Chat.Tests.Cluster;

/// <summary>Cross-replica chat, presence and nginx; run on one Redis and on a Redis Cluster (the two classes below).</summary>
public abstract class ClusterTests(ClusterFixture cluster)
{
    [Fact]
    public async Task One_to_one_chat_crosses_replicas_both_ways()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"));

        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "A to B" });
        var atBob = await bob.ReceiveAsync(6);
        await bob.SendAsync(new { msgid = 6, toid = alice.Id, msg = "B to A" });
        var atAlice = await alice.ReceiveAsync(6);

        Assert.Equal(("A to B", alice.Id, 1L), ((string)atBob["msg"]!, (int)atBob["id"]!, (long)atBob["seq"]!));
        Assert.Equal(("B to A", bob.Id, 2L), ((string)atAlice["msg"]!, (int)atAlice["id"]!, (long)atAlice["seq"]!));
    }

    [Fact]
    public async Task Group_chat_reaches_members_on_both_replicas_once_each()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"));
        await using var carol = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("carol"));
        await using var dan = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("dan"));
        var created = await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "c" });
        var groupId = (int)created["groupid"]!;
        foreach (var member in new[] { bob, carol, dan })
        {
            Assert.Equal(0, (int)(await member.RequestAsync(new { msgid = 9, groupid = groupId, cid = "j" }))["errno"]!);
        }

        await alice.SendAsync(new { msgid = 10, groupid = groupId, msg = "to everyone" });

        foreach (var member in new[] { bob, carol, dan })
        {
            Assert.Equal("to everyone", (string)(await member.ReceiveAsync(10))["msg"]!);
            await member.AssertNothingPendingAsync();
        }

        await alice.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task A_second_login_on_the_other_replica_is_refused()
    {
        var name = TestClient.Unique("erin");
        await using var first = await TestClient.LoggedInAsync(cluster.A.ChatPort, name);
        await using var second = await TestClient.ConnectAsync(cluster.B.ChatPort);

        var ack = await second.LoginAsync(first.Id, "pw-" + name);

        Assert.Equal(2, (int)ack["errno"]!);
    }

    [Fact]
    public async Task A_claim_lives_past_its_ttl_while_refreshed_and_a_dead_replicas_claim_runs_out()
    {
        var name = TestClient.Unique("fay");
        await using var fay = await TestClient.LoggedInAsync(cluster.A.ChatPort, name);
        var ghostName = TestClient.Unique("gus");
        int ghostId;
        await using (var gus = await TestClient.LoggedInAsync(cluster.B.ChatPort, ghostName))
        {
            ghostId = gus.Id;
            await gus.SendAsync(new { msgid = 3, cid = "bye" });
            await gus.ReceiveAsync(11);
        }

        // What a replica killed while gus was on it leaves behind: its claim, no longer refreshed.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(cluster.RedisConnectionString))
        {
            await redis.GetDatabase().StringSetAsync(cluster.RedisPrefix + RedisPresence.KeyName(ghostId), "replica-killed", ClusterFixture.PresenceTtl);
        }

        var since = Stopwatch.StartNew();
        await Wait.UntilAsync(async () =>
        {
            await using var attempt = await TestClient.ConnectAsync(cluster.A.ChatPort);
            return (int)(await attempt.LoginAsync(ghostId, "pw-" + ghostName))["errno"]! == 0;
        }, ClusterFixture.PresenceTtl * 3, "gus can log in again once the dead replica's claim ran out");

        // Meanwhile fay's claim, refreshed by her replica, outlived its TTL: a second login is still refused.
        await Wait.UntilAsync(() => since.Elapsed > ClusterFixture.PresenceTtl * 1.5, ClusterFixture.PresenceTtl * 2, "more than a TTL to pass");
        await using var second = await TestClient.ConnectAsync(cluster.B.ChatPort);
        Assert.Equal(2, (int)(await second.LoginAsync(fay.Id, "pw-" + name))["errno"]!);
    }

    [Fact]
    public async Task A_message_to_a_user_who_logged_out_on_the_other_replica_arrives_at_next_login()
    {
        var bobName = TestClient.Unique("bob");
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, bobName);
        await bob.SendAsync(new { msgid = 3, cid = "bye" });
        await bob.ReceiveAsync(11);

        var ack = await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "while you were out", cid = "m" });
        Assert.Equal(0, (int)ack["errno"]!);

        var login = await bob.LoginAsync(bob.Id, "pw-" + bobName);
        var offline = JsonNode.Parse((string)login["offlinemsg"]!.AsArray().Single()!)!;
        Assert.Equal("while you were out", (string)offline["msg"]!);
    }

    [Fact]
    public async Task Friend_state_comes_from_cluster_presence()
    {
        var aliceName = TestClient.Unique("alice");
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, aliceName);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"));
        await alice.RequestAsync(new { msgid = 7, friendid = bob.Id, cid = "f" });
        await alice.SendAsync(new { msgid = 3 });

        var login = await alice.LoginAsync(alice.Id, "pw-" + aliceName);

        var friend = JsonNode.Parse((string)login["friends"]!.AsArray().Single()!)!;
        Assert.Equal("online", (string)friend["state"]!);
    }

    [Fact]
    public async Task Through_nginx_users_on_different_replicas_talk()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.Nginx.Port, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(cluster.Nginx.Port, TestClient.Unique("bob"));

        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "via nginx" });

        Assert.Equal("via nginx", (string)(await bob.ReceiveAsync(6))["msg"]!);
    }

    [Fact]
    public async Task Through_nginx_a_client_that_sends_then_half_closes_still_gets_its_answer()
    {
        // Regression: `printf '{"msgid":13}\n' | nc -q1 127.0.0.1 8000` got nothing: nginx ended the session
        // on the client's FIN unless proxy_half_close is on.
        for (var i = 0; i < 5; i++)
        {
            var answer = await TestClient.ExchangeAsync(cluster.Nginx.Port, "{\"msgid\":13}\n"u8.ToArray(), halfClose: true);

            Assert.Equal("{\"msgid\":14}\n", answer);
        }
    }

    [Fact]
    public async Task Nginx_spreads_connections_over_both_replicas()
    {
        var sessions = new List<TestClient>();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                sessions.Add(await TestClient.LoggedInAsync(cluster.Nginx.Port, TestClient.Unique("n")));
            }

            var onA = cluster.A.Services.GetRequiredService<Chat.Server.Hub.ChatHub>();
            var onB = cluster.B.Services.GetRequiredService<Chat.Server.Hub.ChatHub>();
            Assert.True(sessions.All(s => onA.Find(s.Id) is not null || onB.Find(s.Id) is not null));
            Assert.Contains(sessions, s => onA.Find(s.Id) is not null);
            Assert.Contains(sessions, s => onB.Find(s.Id) is not null);
        }
        finally
        {
            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Readyz_reports_the_database_and_redis()
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{cluster.A.HttpPort}/readyz"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var ready = JsonNode.Parse(body)!;
        var health = await http.GetStringAsync(new Uri($"http://127.0.0.1:{cluster.A.HttpPort}/healthz"));

        Assert.True((bool)ready["ready"]!);
        Assert.Equal(("ok", "ok"), ((string)ready["checks"]!["mysql"]!, (string)ready["checks"]!["redis"]!));
        Assert.Equal("ok", health);
    }
}

public sealed class OneRedisClusterTests(ClusterFixture cluster) : ClusterTests(cluster), IClassFixture<ClusterFixture>;

public sealed class RedisClusterTests(RedisClusterFixture cluster) : ClusterTests(cluster), IClassFixture<RedisClusterFixture>;

/// <summary>PostgreSQL stays a working cluster store: the same replicas, nginx and Redis on it.</summary>
public sealed class PostgresClusterTests(PostgresClusterFixture cluster) : IClassFixture<PostgresClusterFixture>
{
    [Fact]
    public async Task Chat_crosses_replicas_through_nginx_and_readyz_names_postgres()
    {
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("alice"));
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"));
        await using var carol = await TestClient.LoggedInAsync(cluster.Nginx.Port, TestClient.Unique("carol"));

        await alice.SendAsync(new { msgid = 6, toid = bob.Id, msg = "A to B", cid = "1" });
        var ack = await alice.ReceiveAsync(11);
        var atBob = await bob.ReceiveAsync(6);
        await carol.SendAsync(new { msgid = 6, toid = alice.Id, msg = "via nginx" });
        var atAlice = await alice.ReceiveAsync(6);

        Assert.Equal(0, (int)ack["errno"]!);
        Assert.Equal(("A to B", 1L), ((string)atBob["msg"]!, (long)atBob["seq"]!));
        Assert.Equal("via nginx", (string)atAlice["msg"]!);
        using var http = new HttpClient();
        var ready = JsonNode.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{cluster.B.HttpPort}/readyz")))!;
        Assert.Equal("ok", (string)ready["checks"]!["postgres"]!);
    }
}
