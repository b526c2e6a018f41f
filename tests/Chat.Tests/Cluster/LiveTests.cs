using System.Diagnostics;
using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>
/// TYPING and PRESENCE across two replicas through nginx; a seed-protocol session beside them gets neither. Run on one
/// Redis and on a Redis Cluster (sharded channels; the presence scripts per hash slot): the two classes below.
/// </summary>
public abstract class LiveTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Typing_reaches_the_peer_on_the_other_replica_at_most_once_a_second_and_never_a_seed_session()
    {
        await using var alice = await Devices.LoggedInThroughNginxOnAsync(cluster, cluster.A, "alice", v: 2);
        await using var bob = await Devices.LoggedInThroughNginxOnAsync(cluster, cluster.B, "bob", v: 2);
        await using var carol = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("carol")); // seed protocol

        var clock = Stopwatch.StartNew();
        const int burst = 5;
        for (var i = 0; i < burst; i++)
        {
            await Devices.AckedAsync(alice, new TypingRequest(bob.Id, null) { Cid = Cid.From($"t{i}") });
        }

        var typing = await bob.ReceiveAsync(19);
        Assert.Equal((alice.Id, alice.Name, alice.Id), ((int)typing["id"]!, (string)typing["name"]!, (int)typing["peer"]!));
        Assert.Null(typing["groupid"]);
        var relayed = 1;
        while (true)
        {
            await bob.SendAsync(new PingRequest { Cid = Cid.From("barrier") });
            var frame = await bob.ReceiveAsync();
            if ((int)frame["msgid"]! == 14)
            {
                break;
            }

            Assert.Equal(19, (int)frame["msgid"]!);
            relayed++;
        }

        // The burst took clock.Elapsed: at most one a second passed, whatever the machine's load.
        Assert.True(relayed <= 1 + (int)clock.Elapsed.TotalSeconds, $"{relayed} of {burst} relayed in {clock.Elapsed}");

        // A second later the next one passes.
        await Wait.UntilAsync(async () =>
        {
            await Devices.AckedAsync(alice, new TypingRequest(bob.Id, null) { Cid = Cid.From("again") });
            await bob.SendAsync(new PingRequest { Cid = Cid.From("barrier") });
            var frame = await bob.ReceiveAsync();
            if ((int)frame["msgid"]! == 14)
            {
                return false;
            }

            Assert.Equal(19, (int)frame["msgid"]!);
            await bob.ReceiveAsync(14);
            return true;
        }, TimeSpan.FromSeconds(15), "a typing after the interval is relayed");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"a second typing passed after {clock.Elapsed}");

        // To a seed-protocol session: accepted, never delivered.
        await Devices.AckedAsync(alice, new TypingRequest(carol.Id, null) { Cid = Cid.From("seed") });
        // A chat on the same channel after it: a relayed TYPING from the other replica would arrive before it.
        await Devices.AckedAsync(alice, new OneChatRequest(carol.Id, "after typing") { Cid = Cid.From("after") });
        Assert.Equal("after typing", (string)(await carol.ReceiveAsync(6))["msg"]!);
        await carol.AssertNothingPendingAsync();
        await alice.AssertNothingPendingAsync();

        // Bad input: a clear error, the connection goes on.
        Assert.Equal(6, (int)(await alice.RequestAsync(new TypingRequest(int.MaxValue, null) { Cid = Cid.From("x") }))["errno"]!);
        Assert.Equal(4, (int)(await alice.RequestAsync(new { msgid = 19, peer = bob.Id, groupid = 1, cid = "y" }))["errno"]!);
        Assert.Equal(4, (int)(await alice.RequestAsync(new { msgid = 19, peer = "bob", cid = "z" }))["errno"]!);
        Assert.Equal(7, (int)(await alice.RequestAsync(new TypingRequest(null, int.MaxValue) { Cid = Cid.From("w") }))["errno"]!);
    }

    [Fact]
    public async Task Group_typing_reaches_the_other_members_on_both_replicas_but_not_the_typist_or_a_seed_session()
    {
        await using var alice = await Devices.LoggedInThroughNginxOnAsync(cluster, cluster.A, "alice", v: 2);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"), v: 2);
        await using var dan = await TestClient.LoggedInAsync(cluster.A.ChatPort, TestClient.Unique("dan"), v: 2);
        await using var carol = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("carol"));
        var groupId = (int)(await Devices.AckedAsync(alice, new CreateGroupRequest(TestClient.Unique("g"), "") { Cid = Cid.From("g") }))["groupid"]!;
        await Devices.JoinInTurnAsync(groupId, [alice], bob, dan, carol);

        await Devices.AckedAsync(alice, new TypingRequest(null, groupId) { Cid = Cid.From("t1") });
        await Devices.AckedAsync(alice, new TypingRequest(null, groupId) { Cid = Cid.From("t2") });

        foreach (var member in new[] { bob, dan })
        {
            var typing = await member.ReceiveAsync(19);
            Assert.Equal((alice.Id, alice.Name, groupId), ((int)typing["id"]!, (string)typing["name"]!, (int)typing["groupid"]!));
            Assert.Null(typing["peer"]);
        }

        foreach (var client in new[] { alice, carol, bob, dan })
        {
            await client.AssertNothingPendingAsync(); // t2 fell within the second: dropped
        }
    }

    [Fact]
    public async Task Friends_on_both_replicas_hear_a_user_come_online_and_go_offline_and_a_seed_friend_hears_nothing()
    {
        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(cluster.A.ChatPort, name);
        await using var bob = await Devices.WatcherAsync(cluster.B.ChatPort, "bob", una, v: 2);
        await using var dan = await Devices.WatcherAsync(cluster.A.ChatPort, "dan", una, v: 2);
        await using var carol = await Devices.WatcherAsync(cluster.B.ChatPort, "carol", una, v: 0);
        await using var stranger = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("eve"), v: 2);

        await using var device = await Devices.ThroughNginxOnAsync(cluster, cluster.A);
        Assert.Equal(0, (int)(await device.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectPresenceAsync(bob, una, "online");
        await Devices.ExpectPresenceAsync(dan, una, "online");

        await Devices.AckedAsync(device, new LogoutRequest { Cid = Cid.From("out") });
        await Devices.ExpectPresenceAsync(bob, una, "offline");
        await Devices.ExpectPresenceAsync(dan, una, "offline");

        // A friend added later hears of changes from then on.
        await Devices.AckedAsync(stranger, new AddFriendRequest(una) { Cid = Cid.From("f") });
        Assert.Equal(0, (int)(await device.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectPresenceAsync(stranger, una, "online");

        await carol.AssertNothingPendingAsync();
        await device.AssertNothingPendingAsync();
    }
    [Fact]
    public async Task The_acks_of_add_friend_and_add_group_carry_the_entry_a_login_would_list_and_a_seed_request_still_gets_none()
    {
        await using var alice = await Devices.LoggedInThroughNginxOnAsync(cluster, cluster.A, "alice", v: 2);
        await using var bob = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("bob"), v: 2);
        var unaName = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(cluster.A.ChatPort, unaName);

        // Bob's own announcement may still be on its way through Redis: a PRESENCE saying he is online may come first.
        async Task<JsonObject> AckedAsync(Request request)
        {
            await alice.SendAsync(request);
            while (true)
            {
                var frame = await alice.ReceiveAsync();
                if ((int)frame["msgid"]! != 20)
                {
                    Assert.Equal((11, 0), ((int)frame["msgid"]!, (int)frame["errno"]!));
                    return frame;
                }

                Assert.Equal((bob.Id, "online"), ((int)frame["id"]!, (string)frame["state"]!));
            }
        }

        // The friend's name and cluster-wide state: bob is online on the other replica, una is not logged in.
        var friend = (await AckedAsync(new AddFriendRequest(bob.Id) { Cid = Cid.From("f1") }))["friend"]!;
        Assert.Equal((bob.Id, bob.Name, "online"), ((int)friend["id"]!, (string)friend["name"]!, (string)friend["state"]!));
        friend = (await AckedAsync(new AddFriendRequest(una) { Cid = Cid.From("f2") }))["friend"]!;
        Assert.Equal((una, unaName, "offline"), ((int)friend["id"]!, (string)friend["name"]!, (string)friend["state"]!));
        Assert.Null(friend["role"]);

        // The group with every member's state and role, as LOGIN_ACK lists it.
        var groupName = TestClient.Unique("g");
        var groupId = (int)(await Devices.AckedAsync(bob, new CreateGroupRequest(groupName, "where we meet") { Cid = Cid.From("g") }))["groupid"]!;
        foreach (var cid in new[] { "j1", "j2" }) // joining again answers the same
        {
            var group = (await AckedAsync(new JoinGroupRequest(groupId) { Cid = Cid.From(cid) }))["group"]!;
            Assert.Equal((groupId, groupName, "where we meet"), ((int)group["id"]!, (string)group["groupname"]!, (string)group["groupdesc"]!));
            var members = group["users"]!.AsArray().Select(u => ((int)u!["id"]!, (string)u["name"]!, (string)u["state"]!, (string)u["role"]!));
            Assert.Equal(
                new[] { (alice.Id, alice.Name, "online", "normal"), (bob.Id, bob.Name, "online", "creator") }.OrderBy(m => m.Item1),
                members.OrderBy(m => m.Item1));
        }

        // A new session's LOGIN_ACK lists the same friends and the group.
        await using var again = await TestClient.ConnectAsync(cluster.B.ChatPort);
        await AckedAsync(new LogoutRequest { Cid = Cid.From("out") });
        var login = await again.LoginAsync(alice.Id, "pw-" + alice.Name, v: 2);
        Assert.Equal(new[] { bob.Id, una }, login["friends"]!.AsArray().Select(f => (int)f!["id"]!).Order());
        Assert.Equal(groupName, (string)login["groups"]!.AsArray().Single(g => (int)g!["id"]! == groupId)!["groupname"]!);

        // Without a cid (the seed's way) ADD_FRIEND and ADD_GROUP are answered with nothing, as before.
        await using var carol = await TestClient.LoggedInAsync(cluster.B.ChatPort, TestClient.Unique("carol"));
        await carol.SendAsync(new AddFriendRequest(bob.Id));
        await carol.SendAsync(new JoinGroupRequest(groupId));
        await carol.AssertNothingPendingAsync();
    }
}

public sealed class OneRedisLiveTests(ClusterFixture cluster) : LiveTests(cluster), IClassFixture<ClusterFixture>;

public sealed class RedisClusterLiveTests(RedisClusterFixture cluster) : LiveTests(cluster), IClassFixture<RedisClusterFixture>;

/// <summary>A replica dies with a user on it: friends on the survivor hear the user went offline, once the liveness TTL ran out.</summary>
public sealed class PresenceKillTests
{
    [Fact]
    public async Task A_killed_replicas_user_goes_offline_for_friends_on_the_survivor_within_seconds()
    {
        var database = await (await MariaDbServer.StartedAsync()).CreateDatabaseAsync("presence_kill");
        await using var redis = await RedisServer.StartNewAsync();
        var settings = new Dictionary<string, string> { ["Chat:PresenceTtl"] = "00:05:00" }; // only liveness can tell
        await using var doomed = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var survivor = await ReplicaProcess.StartAsync(database, redis.ConnectionString, settings);
        await using var nginx = await NginxServer.StartNewAsync([doomed.ChatPort, survivor.ChatPort]);

        var name = TestClient.Unique("una");
        var una = await Devices.RegisterAsync(survivor.ChatPort, name);
        await using var bob = await Devices.WatcherAsync(survivor.ChatPort, "bob", una, v: 2);
        await using var carol = await Devices.WatcherAsync(survivor.ChatPort, "carol", una, v: 0);
        await using var device = await TestClient.ConnectAsync(doomed.ChatPort);
        Assert.Equal(0, (int)(await device.LoginAsync(una, "pw-" + name, v: 2))["errno"]!);
        await Devices.ExpectPresenceAsync(bob, una, "online");

        doomed.KillHard();
        var killedAt = Stopwatch.StartNew();
        Assert.Null(await device.ReceiveOrCloseAsync());

        await Devices.ExpectPresenceAsync(bob, una, "offline");
        Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(10), $"offline after {killedAt.Elapsed} with a 3 s liveness TTL");
        await carol.AssertNothingPendingAsync();

        // Back through nginx (on the survivor now): online again.
        await Wait.UntilAsync(async () =>
        {
            var again = await TestClient.ConnectAsync(nginx.Port);
            if ((int)(await again.LoginAsync(una, "pw-" + name, v: 2))["errno"]! == 0)
            {
                return true;
            }

            await again.DisposeAsync();
            return false;
        }, TimeSpan.FromSeconds(15), "una logs in again");
        await Devices.ExpectPresenceAsync(bob, una, "online");
    }
}
