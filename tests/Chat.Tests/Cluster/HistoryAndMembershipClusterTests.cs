using System.Text.Json.Nodes;
using Chat.Server.Hub;
using Chat.Tests.Integration;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Cluster;

/// <summary>
/// HISTORY, READ, LEAVE_GROUP, REMOVE_MEMBER and REMOVE_FRIEND across two replicas (MariaDB, Redis), every user
/// logged in through nginx and placed on the replica the test needs. Each test has a seed-protocol session that would
/// be a target of the new pushes if it were v2, and checks that it receives none of them.
/// </summary>
public sealed class HistoryAndMembershipClusterTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task History_pages_back_through_a_conversation_from_the_other_replica_and_refuses_what_is_not_the_users()
    {
        await using var alice = await OnAsync(cluster.A, "alice");
        await using var bob = await OnAsync(cluster.B, "bob");
        await using var carol = await OnAsync(cluster.B, "carol", v: 0);
        foreach (var text in new[] { "m1", "m2", "m3", "m4", "m5" })
        {
            await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = text, cid = text });
            await bob.ReceiveAsync(6);
        }

        var newest = await bob.RequestAsync(new { msgid = 15, peer = alice.Id, limit = 2, cid = "h1" });
        var older = await bob.RequestAsync(new { msgid = 15, peer = alice.Id, limit = 2, before = 4 });
        var beyond = await alice.RequestAsync(new { msgid = 15, peer = bob.Id, before = 1_000_000 });

        Assert.Equal(("h1", "m4 m5", true), ((string)newest["cid"]!, Bodies(newest), (bool)newest["more"]!));
        Assert.Equal((alice.Id, "m2 m3", true), ((int)older["peer"]!, Bodies(older), (bool)older["more"]!));
        Assert.Equal(("m1 m2 m3 m4 m5", false), (Bodies(beyond), (bool)beyond["more"]!));
        Assert.Null(newest["start"]); // said on the last page only
        Assert.Equal(1L, (long)beyond["start"]!); // nothing erased: the conversation starts at seq 1
        Assert.Equal(bob.Id, (int)beyond["messages"]![0]!["toid"]!);

        // A group from when the member joined; not at all for one who is not in it.
        var group = await CreateGroupAsync(alice, bob);
        await alice.RequestAsync(new { msgid = 10, groupid = group, msg = "before carol", cid = "g1" });
        await bob.ReceiveAsync(10);
        await Devices.JoinInTurnAsync(group, [alice, bob], carol);
        await alice.RequestAsync(new { msgid = 10, groupid = group, msg = "after carol", cid = "g2" });
        await bob.ReceiveAsync(10);
        await carol.ReceiveAsync(10);
        var carols = await carol.RequestAsync(new { msgid = 15, groupid = group });
        Assert.Equal("after carol", Bodies(carols));
        Assert.Equal((long)carols["messages"]![0]!["seq"]!, (long)carols["start"]!); // her start is after her join
        Assert.Equal("before carol after carol", Bodies(await bob.RequestAsync(new { msgid = 15, groupid = group })));

        Assert.Equal(7, Errno(await carol.RequestAsync(new { msgid = 15, groupid = group + 1_000 })));
        Assert.Equal(6, Errno(await bob.RequestAsync(new { msgid = 15, peer = int.MaxValue, cid = "x" })));
        Assert.Equal(4, Errno(await bob.RequestAsync(new { msgid = 15, peer = alice.Id, limit = 201 })));
        Assert.Equal(4, Errno(await bob.RequestAsync(new { msgid = 15, peer = "alice" })));
        await alice.AssertNothingPendingAsync();
        await carol.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Read_moves_the_mark_forward_only_tells_the_other_v2_user_and_shows_in_the_next_login()
    {
        await using var alice = await OnAsync(cluster.A, "alice");
        await using var bob = await OnAsync(cluster.B, "bob");
        await using var seed = await OnAsync(cluster.A, "dave", v: 0);
        foreach (var text in new[] { "a1", "a2", "a3" })
        {
            await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = text, cid = text });
            await bob.ReceiveAsync(6);
        }

        await seed.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "from the seed", cid = "s" });
        await bob.ReceiveAsync(6);
        await bob.RequestAsync(new { msgid = 6, toid = seed.Id, msg = "to the seed", cid = "b" });
        await seed.ReceiveAsync(6);

        Assert.Equal(0, Errno(await bob.RequestAsync(new { msgid = 17, peer = alice.Id, seq = 2, cid = "r1" })));
        Assert.Equal(new JsonObject { ["msgid"] = 18, ["id"] = bob.Id, ["peer"] = bob.Id, ["seq"] = 2 }.ToJsonString(), (await alice.ReceiveAsync(18)).ToJsonString());
        await bob.SendAsync(new { msgid = 17, peer = alice.Id, seq = 1 }); // back: nothing moves, nobody hears
        await bob.SendAsync(new { msgid = 17, peer = alice.Id, seq = 99 }); // beyond the newest: clamped to it
        Assert.Equal(3, (int)(await alice.ReceiveAsync(18))["seq"]!);
        await bob.SendAsync(new { msgid = 17, peer = seed.Id, seq = 2 });
        await bob.AssertNothingPendingAsync();
        await alice.AssertNothingPendingAsync();
        await seed.AssertNothingPendingAsync(); // a seed client never gets READ_NOTICE

        Assert.Equal(6, Errno(await bob.RequestAsync(new { msgid = 17, peer = int.MaxValue, seq = 1, cid = "x" })));
        Assert.Equal(7, Errno(await bob.RequestAsync(new { msgid = 17, groupid = int.MaxValue, seq = 1, cid = "y" })));
        Assert.Equal(4, Errno(await bob.RequestAsync(new { msgid = 17, peer = alice.Id, seq = "3", cid = "z" })));

        // Bob logs in again, on the other replica: his marks and what is unread come with LOGIN_ACK.
        await alice.RequestAsync(new { msgid = 6, toid = bob.Id, msg = "a4", cid = "a4" });
        await bob.ReceiveAsync(6);
        await bob.RequestAsync(new { msgid = 3, cid = "out" });
        await using var again = await TestClient.ConnectAsync(cluster.A.ChatPort);
        var ack = await again.LoginAsync(bob.Id, "pw-" + bob.Name, v: 2);
        var convs = ack["convs"]!.AsArray().Select(c => c!.AsObject()).ToDictionary(c => (int)c["peer"]!);
        Assert.Equal((4, 3, 1), ((int)convs[alice.Id]["seq"]!, (int)convs[alice.Id]["read"]!, (int)convs[alice.Id]["unread"]!));
        Assert.Equal((2, 2, 0), ((int)convs[seed.Id]["seq"]!, (int)convs[seed.Id]["read"]!, (int)convs[seed.Id]["unread"]!));
    }

    [Fact]
    public async Task A_group_read_goes_to_nobody_else_and_its_mark_shows_at_login()
    {
        await using var alice = await OnAsync(cluster.A, "alice");
        await using var bob = await OnAsync(cluster.B, "bob");
        await using var carol = await OnAsync(cluster.B, "carol", v: 0);
        var group = await CreateGroupAsync(alice, bob, carol);
        foreach (var text in new[] { "g1", "g2" })
        {
            await alice.RequestAsync(new { msgid = 10, groupid = group, msg = text, cid = text });
            await bob.ReceiveAsync(10);
            await carol.ReceiveAsync(10);
        }

        Assert.Equal(0, Errno(await bob.RequestAsync(new { msgid = 17, groupid = group, seq = 1, cid = "r" })));
        await alice.AssertNothingPendingAsync();
        await carol.AssertNothingPendingAsync();

        await bob.RequestAsync(new { msgid = 3, cid = "out" });
        var ack = await bob.LoginAsync(bob.Id, "pw-" + bob.Name, v: 2);
        var conv = ack["convs"]!.AsArray().Single(c => (int?)c!["groupid"] == group)!;
        Assert.Equal((2, 1, 1), ((int)conv["seq"]!, (int)conv["read"]!, (int)conv["unread"]!));
    }

    [Fact]
    public async Task A_member_who_leaves_gets_nothing_more_of_the_group_and_a_leaving_creator_passes_the_role_on()
    {
        await using var alice = await OnAsync(cluster.A, "alice");
        await using var bob = await OnAsync(cluster.B, "bob");
        await using var carol = await OnAsync(cluster.B, "carol", v: 0);
        await using var dave = await OnAsync(cluster.A, "dave");
        var group = await CreateGroupAsync(alice, carol, bob, dave);

        Assert.Equal(0, Errno(await bob.RequestAsync(new { msgid = 21, groupid = group, cid = "leave" })));
        await Devices.ExpectGoneAsync(alice, group, bob.Id); // the members still in see it (v2 sessions)
        await Devices.ExpectGoneAsync(dave, group, bob.Id);
        await alice.RequestAsync(new { msgid = 10, groupid = group, msg = "after bob left", cid = "m" });
        await carol.ReceiveAsync(10);
        await dave.ReceiveAsync(10);
        await bob.AssertNothingPendingAsync();
        Assert.Equal(7, Errno(await bob.RequestAsync(new { msgid = 10, groupid = group, msg = "still here?", cid = "b" })));
        Assert.Equal(7, Errno(await bob.RequestAsync(new { msgid = 15, groupid = group, cid = "h" })));
        Assert.Equal(7, Errno(await bob.RequestAsync(new { msgid = 17, groupid = group, seq = 1, cid = "r" })));
        Assert.Equal(7, Errno(await bob.RequestAsync(new { msgid = 21, groupid = group, cid = "again" })));

        // The creator leaves: carol, the longest-standing member, may now remove others.
        Assert.Equal(0, Errno(await alice.RequestAsync(new { msgid = 21, groupid = group, cid = "leave" })));
        await Devices.ExpectGoneAsync(dave, group, alice.Id, creator: carol.Id);
        Assert.Equal(0, Errno(await carol.RequestAsync(new { msgid = 22, groupid = group, userid = dave.Id, cid = "rm" })));
        await Devices.ExpectGoneAsync(dave, group, dave.Id, by: carol.Id);
        await alice.AssertNothingPendingAsync();
        await carol.AssertNothingPendingAsync();
        await bob.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Only_the_creator_removes_and_the_removed_stop_receiving_on_their_replica_seed_sessions_too()
    {
        await using var alice = await OnAsync(cluster.A, "alice");
        await using var bob = await OnAsync(cluster.B, "bob");
        await using var carol = await OnAsync(cluster.B, "carol", v: 0);
        await using var dave = await OnAsync(cluster.A, "dave");
        var group = await CreateGroupAsync(alice, bob, carol, dave);

        Assert.Equal(13, Errno(await bob.RequestAsync(new { msgid = 22, groupid = group, userid = dave.Id, cid = "no" })));
        Assert.Equal(13, Errno(await alice.RequestAsync(new { msgid = 22, groupid = group, userid = alice.Id, cid = "self" })));
        Assert.Equal(7, Errno(await alice.RequestAsync(new { msgid = 22, groupid = group, userid = int.MaxValue, cid = "who" })));
        Assert.Equal(6, Errno(await alice.RequestAsync(new { msgid = 22, groupid = int.MaxValue, userid = bob.Id, cid = "where" })));
        Assert.Equal(0, Errno(await alice.RequestAsync(new { msgid = 22, groupid = group, userid = bob.Id, cid = "bob" })));
        // Once bob has his push, his replica has taken him out of the group: the next removal's push cannot reach him.
        await Devices.ExpectGoneAsync(bob, group, bob.Id, by: alice.Id);
        Assert.Equal(0, Errno(await alice.RequestAsync(new { msgid = 22, groupid = group, userid = carol.Id, cid = "carol" })));
        await Devices.ExpectGoneAsync(dave, group, bob.Id, by: alice.Id); // a member still in sees both; the creator has its ACKs
        await Devices.ExpectGoneAsync(dave, group, carol.Id, by: alice.Id);
        await alice.RequestAsync(new { msgid = 10, groupid = group, msg = "members only", cid = "m" });
        Assert.Equal("members only", (string)(await dave.ReceiveAsync(10))["msg"]!);
        await bob.AssertNothingPendingAsync();
        await carol.AssertNothingPendingAsync(); // neither the push nor the group's messages
        Assert.Equal(7, Errno(await carol.RequestAsync(new { msgid = 10, groupid = group, msg = "hello?", cid = "c" })));
        await dave.AssertNothingPendingAsync();
    }

    [Fact]
    public async Task Removing_a_friend_removes_one_direction()
    {
        await using var alice = await OnAsync(cluster.A, "alice");
        await using var bob = await OnAsync(cluster.B, "bob");
        await using var carol = await OnAsync(cluster.B, "carol", v: 0);
        foreach (var (from, to) in new[] { (alice, bob), (bob, alice), (alice, carol), (carol, alice) })
        {
            Assert.Equal(0, Errno(await from.RequestAsync(new { msgid = 7, friendid = to.Id, cid = "add" })));
        }

        Assert.Equal(0, Errno(await alice.RequestAsync(new { msgid = 23, friendid = bob.Id, cid = "rm" })));
        Assert.Equal(0, Errno(await alice.RequestAsync(new { msgid = 23, friendid = bob.Id, cid = "again" })));
        Assert.Equal(6, Errno(await alice.RequestAsync(new { msgid = 23, friendid = int.MaxValue, cid = "who" })));
        await bob.AssertNothingPendingAsync();
        await carol.AssertNothingPendingAsync();

        // Bob first: he still has alice, so her going out and in would reach him as PRESENCE; she no longer hears of him.
        await bob.RequestAsync(new { msgid = 3, cid = "out" });
        var bobs = (await bob.LoginAsync(bob.Id, "pw-" + bob.Name, v: 2))["friends"]!.AsArray().Select(f => (int)f!["id"]!);
        await alice.RequestAsync(new { msgid = 3, cid = "out" });
        var friends = (await alice.LoginAsync(alice.Id, "pw-" + alice.Name, v: 2))["friends"]!.AsArray().Select(f => (int)f!["id"]!);
        Assert.Equal([carol.Id], friends);
        Assert.Equal([alice.Id], bobs);
    }

    /// <summary>A fresh user logged in through nginx whose session landed on <paramref name="replica"/>.</summary>
    private async Task<TestClient> OnAsync(Replica replica, string name, int v = 2)
    {
        var hub = replica.Services.GetRequiredService<ChatHub>();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var client = await TestClient.LoggedInAsync(cluster.Nginx.Port, TestClient.Unique(name), v);
            if (hub.Find(client.Id) is not null)
            {
                return client;
            }

            await client.DisposeAsync();
        }

        throw new InvalidOperationException("nginx never placed a connection on the wanted replica");
    }

    /// <summary>A group created by <paramref name="creator"/> that the others join in order.</summary>
    private static async Task<int> CreateGroupAsync(TestClient creator, params TestClient[] members)
    {
        var created = await creator.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "c" });
        var group = (int)created["groupid"]!;
        await Devices.JoinInTurnAsync(group, [creator], members);
        return group;
    }

    private static int Errno(JsonObject answer) => (int)answer["errno"]!;

    private static string Bodies(JsonObject historyAck) =>
        string.Join(' ', historyAck["messages"]!.AsArray().Select(m => (string)m!["msg"]!));
}
