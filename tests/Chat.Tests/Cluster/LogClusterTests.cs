using System.Text.Json.Nodes;
using Chat.Protocol;
using Chat.Tests.Integration;

namespace Chat.Tests.Cluster;

/// <summary>
/// The conversation is a log (issue 21), across two replicas: EDIT, RECALL and REACT take the conversation's next seq,
/// are stored, acknowledged and routed like messages, live and in resume and offline; replies quote what they answer;
/// HISTORY folds the log; seed-protocol sessions see messages only, as they stand, and never frames 24–26. One user on
/// replica A directly, the others through nginx placed on replica B. On one Redis, and on a Redis Cluster.
/// </summary>
public abstract class LogClusterTests<TFixture>(TFixture cluster) where TFixture : ClusterFixture
{
    [Fact]
    public async Task Events_reach_every_party_in_order_history_folds_them_and_seed_sessions_see_messages_as_they_stand()
    {
        var aliceName = TestClient.Unique("alice");
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, aliceName, v: 2);
        var bob = await LoggedInOnBAsync("bob", v: 2);
        var bobName = bob.Name;
        var carol = await LoggedInOnBAsync("carol", v: 0);
        var carolName = carol.Name;
        var group = (int)(await alice.RequestAsync(new { msgid = 8, groupname = TestClient.Unique("g"), cid = "c" }))["groupid"]!;
        await Devices.JoinInTurnAsync(group, [alice], bob, carol);

        var s1 = await SendAsync(alice, new { msgid = 10, groupid = group, msg = "hello", cid = "1" }, [bob, carol]);
        // A reply quotes what it answers, for every party (the seed session too: a field it does not know, in a frame it does).
        var s2 = await SendAsync(bob, new { msgid = 10, groupid = group, msg = "hi back", reply = s1, cid = "2" }, [alice, carol]);
        var quoted = (await alice.RequestAsync(new { msgid = 15, groupid = group }))["messages"]![1]!["reply"]!;
        Assert.Equal(new JsonObject { ["seq"] = s1, ["id"] = alice.Id, ["name"] = aliceName, ["msg"] = "hello" }.ToJsonString(), quoted.ToJsonString());

        var s3 = await AckedSeqAsync(alice, new { msgid = 24, groupid = group, seq = s1, msg = "hello, all", cid = "3" });
        var edit = await bob.ReceiveAsync(24);
        Assert.Equal(
            new JsonObject { ["msgid"] = 24, ["id"] = alice.Id, ["name"] = aliceName, ["groupid"] = group, ["seq"] = s3, ["ref"] = s1, ["msg"] = "hello, all", ["ts"] = edit["ts"]!.DeepClone() }.ToJsonString(),
            edit.ToJsonString());

        var s4 = await AckedSeqAsync(bob, new { msgid = 26, groupid = group, seq = s1, emoji = "👍", cid = "4" });
        var react = await alice.ReceiveAsync(26);
        Assert.Equal((bob.Id, bobName, group, s4, s1, "👍", true), ((int)react["id"]!, (string)react["name"]!, (int)react["groupid"]!, (long)react["seq"]!, (long)react["ref"]!, (string)react["emoji"]!, (bool)react["on"]!));

        // The group's creator may recall anyone's message.
        var s5 = await AckedSeqAsync(alice, new { msgid = 25, groupid = group, seq = s2, cid = "5" });
        var recall = await bob.ReceiveAsync(25);
        Assert.Equal(
            new JsonObject { ["msgid"] = 25, ["id"] = alice.Id, ["groupid"] = group, ["seq"] = s5, ["ref"] = s2, ["ts"] = recall["ts"]!.DeepClone() }.ToJsonString(),
            recall.ToJsonString());
        Assert.Equal([s1 + 1, s1 + 2, s1 + 3, s1 + 4], new[] { s2, s3, s4, s5 });

        // Bad input: a clear error each, nothing stored, the connection served on.
        Assert.Equal(13, await ErrnoAsync(bob, new { msgid = 24, groupid = group, seq = s1, msg = "not mine", cid = "x1" }));
        Assert.Equal(13, await ErrnoAsync(bob, new { msgid = 25, groupid = group, seq = s1, cid = "x2" }));
        Assert.Equal(13, await ErrnoAsync(alice, new { msgid = 25, groupid = group, seq = s2, cid = "x3" }));
        Assert.Equal(13, await ErrnoAsync(bob, new { msgid = 26, groupid = group, seq = s2, emoji = "👍", cid = "x4" }));
        Assert.Equal(6, await ErrnoAsync(bob, new { msgid = 26, groupid = group, seq = 999, emoji = "👍", cid = "x5" }));
        Assert.Equal(6, await ErrnoAsync(bob, new { msgid = 26, groupid = group, seq = s3, emoji = "👍", cid = "x6" })); // an event is no message
        Assert.Equal(6, await ErrnoAsync(bob, new { msgid = 10, groupid = group, msg = "re", reply = 999, cid = "x7" }));
        Assert.Equal(4, await ErrnoAsync(bob, new { msgid = 26, groupid = group, seq = s1, emoji = "a b", cid = "x8" }));
        Assert.Equal(4, await ErrnoAsync(bob, new { msgid = 26, groupid = group, seq = s1, emoji = new string('x', 17), cid = "x9" }));
        Assert.Equal(4, await ErrnoAsync(bob, new { msgid = 26, groupid = group, seq = s1, emoji = "", cid = "x10" }));
        Assert.Equal(4, await ErrnoAsync(alice, new { msgid = 24, groupid = group, seq = s1, msg = new string('x', 4097), cid = "x11" }));
        Assert.Equal(7, await ErrnoAsync(alice, new { msgid = 24, groupid = group + 1_000, seq = s1, msg = "?", cid = "x12" }));
        var error = await bob.RequestAsync(new { msgid = 24, groupid = group, seq = s1, msg = "no cid" });
        Assert.Equal((12, 13, 24), ((int)error["msgid"]!, (int)error["errno"]!, (int)error["req"]!));

        // A member who joined later cannot name what came before.
        var dave = await LoggedInOnBAsync("dave", v: 2);
        await Devices.JoinInTurnAsync(group, [alice, bob, carol], dave);
        Assert.Equal(6, await ErrnoAsync(dave, new { msgid = 10, groupid = group, msg = "re", reply = s1, cid = "d1" }));
        Assert.Equal(6, await ErrnoAsync(dave, new { msgid = 26, groupid = group, seq = s1, emoji = "👍", cid = "d2" }));
        await dave.DisposeAsync();

        // HISTORY folds the log: messages only, as they stand.
        var history = (await bob.RequestAsync(new { msgid = 15, groupid = group }))["messages"]!.AsArray();
        Assert.Equal(2, history.Count);
        Assert.Equal(("hello, all", s1), ((string)history[0]!["msg"]!, (long)history[0]!["seq"]!));
        Assert.True((long)history[0]!["edited"]! > 0);
        Assert.Equal(new JsonArray(new JsonObject { ["emoji"] = "👍", ["ids"] = new JsonArray(bob.Id) }).ToJsonString(), history[0]!["reactions"]!.ToJsonString());
        Assert.Equal((s2, true, ""), ((long)history[1]!["seq"]!, (bool)history[1]!["recalled"]!, (string)history[1]!["msg"]!));
        Assert.Null(history[1]!["reactions"]);
        await alice.AssertNothingPendingAsync();
        await bob.AssertNothingPendingAsync();
        await carol.AssertNothingPendingAsync(); // never a 24, 25 or 26

        // Offline: the seed session gets messages as they stand when delivered; a v2 one every entry, in order.
        await LogOutAsync(bob);
        await LogOutAsync(carol);
        var s6 = await AckedSeqAsync(alice, new { msgid = 24, groupid = group, seq = s1, msg = "hello, everyone", cid = "6" });
        var s7 = await AckedSeqAsync(alice, new { msgid = 26, groupid = group, seq = s1, emoji = "❤️", cid = "7" });
        var s8 = await AckedSeqAsync(alice, new { msgid = 10, groupid = group, msg = "typo", cid = "8" });
        var s9 = await AckedSeqAsync(alice, new { msgid = 24, groupid = group, seq = s8, msg = "fixed", cid = "9" });
        var s10 = await AckedSeqAsync(alice, new { msgid = 10, groupid = group, msg = "doomed", cid = "10" });
        var s11 = await AckedSeqAsync(alice, new { msgid = 25, groupid = group, seq = s10, cid = "11" });

        await using (var seed = await Devices.ThroughNginxOnAsync(cluster, cluster.B))
        {
            var ack = await LogInAsync(seed, carol.Id, carolName, v: 0);
            Assert.Equal(["fixed"], ack["offlinemsg"]!.AsArray().Select(e => (string)JsonNode.Parse((string)e!)!["msg"]!));
            await seed.AssertNothingPendingAsync();
            await LogOutAsync(seed);
        }

        await using (var seed = await Devices.ThroughNginxOnAsync(cluster, cluster.A))
        {
            // Its delivered-cursor moved past the events and the recalled message it was never sent.
            Assert.Null((await LogInAsync(seed, carol.Id, carolName, v: 0))["offlinemsg"]);
            await LogOutAsync(seed);
        }

        await using var resumed = await Devices.ThroughNginxOnAsync(cluster, cluster.A);
        var resumedAck = await LogInAsync(resumed, bob.Id, bobName, v: 2, [new ResumePoint(null, group, s5)]);
        var offline = resumedAck["offlinemsg"]!.AsArray();
        Assert.Equal([s6, s7, s8, s9, s10, s11], offline.Select(e => (long)e!["seq"]!));
        Assert.Equal([24, 26, 10, 24, 10, 25], offline.Select(e => (int)e!["msgid"]!));
        Assert.Equal(("fixed", true), ((string)offline[2]!["msg"]!, offline[2]!["edited"] is not null));
        Assert.Equal((true, ""), ((bool)offline[4]!["recalled"]!, (string)offline[4]!["msg"]!));
        // Unread counts messages, not events.
        var conv = resumedAck["convs"]!.AsArray().Single(c => (int?)c!["groupid"] == group)!;
        Assert.Equal((s11, 3L), ((long)conv["seq"]!, (long)conv["unread"]!)); // s1, s8, s10: alice's
        await bob.DisposeAsync();
        await carol.DisposeAsync();
    }

    [Fact]
    public async Task One_to_one_replies_edits_and_reactions_go_both_ways_and_a_user_has_at_most_twenty_emoji_on_a_message()
    {
        var aliceName = TestClient.Unique("alice");
        await using var alice = await TestClient.LoggedInAsync(cluster.A.ChatPort, aliceName, v: 2);
        await using var bob = await LoggedInOnBAsync("bob", v: 2);

        var s1 = await SendAsync(alice, new OneChatRequest(bob.Id, "question") { Cid = Cid.From("1") }, [bob]);
        var s2 = await AckedSeqAsync(bob, new OneChatRequest(alice.Id, "answer") { Reply = s1, Cid = Cid.From("2") });
        var answer = await alice.ReceiveAsync(6);
        Assert.Equal(
            new JsonObject { ["seq"] = s1, ["id"] = alice.Id, ["name"] = aliceName, ["msg"] = "question" }.ToJsonString(),
            answer["reply"]!.ToJsonString());
        Assert.Equal(s2, (long)answer["seq"]!);

        var emoji = new[] { "😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "🥲", "☺️", "🙂" };
        var seqs = new List<long>();
        for (var i = 0; i < emoji.Length; i++)
        {
            seqs.Add(await AckedSeqAsync(bob, new ReactRequest(alice.Id, null, s1, emoji[i]) { Cid = Cid.From("r" + i) }));
        }

        for (var i = 0; i < emoji.Length; i++)
        {
            var push = await alice.ReceiveAsync(26);
            Assert.Equal((seqs[i], emoji[i], alice.Id), ((long)push["seq"]!, (string)push["emoji"]!, (int)push["toid"]!));
        }

        Assert.Equal(4, await ErrnoAsync(bob, new { msgid = 26, peer = alice.Id, seq = s1, emoji = "🤗", cid = "21st" }));
        await AckedSeqAsync(bob, new { msgid = 26, peer = alice.Id, seq = s1, emoji = "😀", cid = "again" }); // one already there: harmless
        await AckedSeqAsync(bob, new { msgid = 26, peer = alice.Id, seq = s1, emoji = "😀", on = false, cid = "off" });
        Assert.True((bool)(await alice.ReceiveAsync(26))["on"]!);
        Assert.False((bool)(await alice.ReceiveAsync(26))["on"]!);
        await AckedSeqAsync(bob, new { msgid = 26, peer = alice.Id, seq = s1, emoji = "🤗", cid = "room again" });
        await alice.ReceiveAsync(26);

        await AckedSeqAsync(alice, new { msgid = 24, peer = bob.Id, seq = s1, msg = "question?", cid = "e" });
        var edit = await bob.ReceiveAsync(24);
        Assert.Equal((alice.Id, bob.Id, s1, "question?"), ((int)edit["id"]!, (int)edit["toid"]!, (long)edit["ref"]!, (string)edit["msg"]!));

        var history = (await alice.RequestAsync(new { msgid = 15, peer = bob.Id }))["messages"]!.AsArray();
        Assert.Equal("question?", (string)history[0]!["msg"]!);
        Assert.Equal([.. emoji.Skip(1), "🤗"], history[0]!["reactions"]!.AsArray().Select(r => (string)r!["emoji"]!));
        Assert.Equal("question?", (string)history[1]!["reply"]!["msg"]!); // the quote as the message stands
        await alice.AssertNothingPendingAsync();
        await bob.AssertNothingPendingAsync();
    }

    private async Task<TestClient> LoggedInOnBAsync(string name, int v) =>
        await Devices.LoggedInThroughNginxOnAsync(cluster, cluster.B, name, v);

    /// <summary>Sends a chat message and checks every recipient gets it at the acknowledged seq.</summary>
    private static async Task<long> SendAsync(TestClient sender, object frame, TestClient[] recipients)
    {
        var seq = await AckedSeqAsync(sender, frame);
        foreach (var r in recipients)
        {
            var got = await r.ReceiveAsync();
            Assert.True((int)got["msgid"]! is 6 or 10 && (long)got["seq"]! == seq, got.ToJsonString());
        }

        return seq;
    }

    private static async Task<long> AckedSeqAsync(TestClient client, object frame)
    {
        var ack = frame is Request request ? await client.RequestAsync(request) : await client.RequestAsync(frame);
        Assert.True((int)ack["msgid"]! == 11 && (int)ack["errno"]! == 0 && ack["seq"] is not null, ack.ToJsonString());
        return (long)ack["seq"]!;
    }

    private static async Task<int> ErrnoAsync(TestClient client, object frame)
    {
        var ack = await client.RequestAsync(frame);
        Assert.Equal(11, (int)ack["msgid"]!);
        return (int)ack["errno"]!;
    }

    private static async Task LogOutAsync(TestClient client) =>
        Assert.Equal(0, (int)(await client.RequestAsync(new LogoutRequest { Cid = Cid.From("bye") }))["errno"]!);

    /// <summary>Logs in again; the logout just before may still be taking the user's presence down (errno 2).</summary>
    private static async Task<JsonObject> LogInAsync(TestClient client, int id, string name, int v, IReadOnlyList<ResumePoint>? resume = null)
    {
        var deadline = DateTime.UtcNow + TestClient.Deadline;
        while (true)
        {
            var ack = await client.LoginAsync(id, "pw-" + name, v, resume);
            if ((int)ack["errno"]! == 0 || DateTime.UtcNow > deadline)
            {
                Assert.Equal(0, (int)ack["errno"]!);
                return ack;
            }

            await Task.Delay(50);
        }
    }
}

public sealed class LogClusterTests(ClusterFixture cluster) : LogClusterTests<ClusterFixture>(cluster), IClassFixture<ClusterFixture>;

public sealed class LogRedisClusterTests(RedisClusterFixture cluster) : LogClusterTests<RedisClusterFixture>(cluster), IClassFixture<RedisClusterFixture>;
